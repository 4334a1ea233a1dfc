"""Media shared by the engines and the application: audio and pictures as arrays, decoded once."""
