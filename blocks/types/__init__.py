"""Built-in block types, one module per family. Their SDKs load only when a method needs them."""
