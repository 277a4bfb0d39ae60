//! What ships: signed updates checked against a local server (`updates`).

mod server;
mod updates;
