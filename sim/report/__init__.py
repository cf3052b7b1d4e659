"""Pictures and reports of runs: PNG figures (`python -m sim plot`), a self-contained HTML report
(`python -m sim report`), and the units read from column names that label their axes."""
