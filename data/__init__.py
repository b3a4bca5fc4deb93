"""The ground floor of EDWC Planner, installed as the package ``edwc_data``.

The default dataset (tables, scalar defaults, shipped scenarios and studies) and what every other
package shares about it: :mod:`edwc_data.tables` loads the dataset, :mod:`edwc_data.units` holds the
constants with their units, :mod:`edwc_data.labels` the one label table (English and Chinese) and
:mod:`edwc_data.files` the one way files are written (atomically) and read (regular files only).
Importing this package imports nothing else, so that light commands start fast.
"""
