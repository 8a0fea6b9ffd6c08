// Intentionally empty: this package only builds the protoc plugins of its dependencies.
