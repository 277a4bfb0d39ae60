//! End-to-end tests of the real `coffer` binary: each test gets its own vault in a
//! temporary directory and drives the binary as a user or a script would.

mod agent_served;
mod attacker;
mod audit_export;
mod audit_files;
mod audit_tamper;
mod backups;
mod bad_input;
mod doctor;
mod faults;
mod insider_keys;
mod insider_process;
mod kdf_settings;
mod keyring;
mod leaks;
mod lifecycle;
mod output;
mod permissions;
mod recovery;
mod support;
mod team;
mod team_audit;
mod team_conformance;
mod use_check;
mod use_files;
mod use_masking;
mod use_request;
mod use_run;
