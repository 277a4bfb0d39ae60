//! What ships: signed updates checked against a local server (`updates`), and the
//! app's identity, icons and packaging configuration (`identity`).

mod identity;
mod server;
mod updates;
