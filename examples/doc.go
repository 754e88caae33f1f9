// Package examples holds recipes that use tracewire from other tools: a
// Dask distributed map step (dask_map.py) and a Jupyter research notebook
// (research.ipynb). It has no Go API; its tests run the recipes against the
// built binary, so what the README shows keeps working.
package examples
