//! End-to-end tests of the real `coffer` binary live in `cli/`.
