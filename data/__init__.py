"""Default dataset of EDWC Planner (installed as the package ``edwc_data``)."""
