"""Running what the printers produce: compiling it, reading arrays in, training and inference."""
