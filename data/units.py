"""Constants with units, defined once for every package."""

#: Hours in the modelled year (365 days; a leap year's 31 December is left out). [h/yr]
HOURS_PER_YEAR = 8760.0
#: Hours in a day. [h]
HOURS_PER_DAY = 24
#: Days in the modelled year. [d/yr]
DAYS_PER_YEAR = 365
#: One-way propagation delay of light in optical fibre. [ms/km]
FIBRE_MS_PER_KM = 0.0049
#: Megawatt-hours in a terawatt-hour. [MWh/TWh]
MWH_PER_TWH = 1e6
#: Tonnes in a megatonne. [t/Mt]
TONNES_PER_MT = 1e6
