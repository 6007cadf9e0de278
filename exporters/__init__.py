"""Output formats (installed as coldtexts.exporters): one module per format."""
