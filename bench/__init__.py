"""Speed and memory figures for Spasm Expert: ``python -m bench`` prints a table (see __main__)."""
