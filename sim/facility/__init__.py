"""SimPy-side facility components: GPU node pools, grid and weather signals."""
