"""The Textual console: the app, its screens, widgets, file watcher and styles."""
