//! Use without reveal in the app: the **Test** action (a test request with the secret
//! placed by reference, answered with every value masked) and where a secret is used.

use std::time::Duration;

use coffer_core::test_request::{self, HmacSpec, RequestSpec, TestResponse};
use coffer_core::{Error, Purpose, Usage};
use serde::{Deserialize, Serialize};
use tauri::State;

use super::ScopeDto;
use crate::error::{IpcError, IpcResult};
use crate::state::AppState;

/// How long a test request may take before it is reported as failed.
const TEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A test request from the form: every text but the method may hold references.
/// A user may also type a literal key there, so `Debug` shows only the shape (as
/// the core's `RequestSpec` does).
#[derive(Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TestRequestInput {
    pub environment: String,
    pub method: String,
    pub url: String,
    /// `Name: value` lines.
    pub headers: Vec<String>,
    /// `key=value` pairs.
    pub query: Vec<String>,
    /// `user:password`.
    pub basic: Option<String>,
    pub hmac_header: Option<String>,
    pub hmac_key: Option<String>,
    pub body: Option<String>,
}

impl std::fmt::Debug for TestRequestInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self
            .headers
            .iter()
            .map(|h| h.split_once(':').map_or("<unnamed>", |(n, _)| n.trim()))
            .collect();
        f.debug_struct("TestRequestInput")
            .field("environment", &self.environment)
            .field("method", &self.method)
            .field("url", &"<redacted>")
            .field("headers", &header_names)
            .field("query", &self.query.len())
            .field("basic", &self.basic.is_some())
            .field("hmac_header", &self.hmac_header)
            .field("hmac_key", &self.hmac_key.is_some())
            .field("body", &self.body.as_ref().map(|b| b.len()))
            .finish()
    }
}

impl TestRequestInput {
    fn spec(self) -> RequestSpec {
        let hmac = match (self.hmac_header, self.hmac_key) {
            (Some(header), Some(key)) if !header.trim().is_empty() => Some(HmacSpec {
                header,
                key,
                prefix: String::new(),
            }),
            _ => None,
        };
        RequestSpec {
            method: self.method,
            url: self.url,
            headers: self.headers,
            query: self.query,
            basic: self.basic.filter(|b| !b.is_empty()),
            hmac,
            body: self.body.filter(|b| !b.is_empty()),
            timeout: TEST_TIMEOUT,
            proxy: None,
        }
    }
}

#[derive(Debug, Serialize, specta::Type)]
pub struct ResponseHeader {
    pub name: String,
    pub value: String,
}

/// The server's answer, already masked by the core.
#[derive(Debug, Serialize, specta::Type)]
pub struct TestResult {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<ResponseHeader>,
    pub body: String,
    pub truncated: bool,
}

impl From<TestResponse> for TestResult {
    fn from(r: TestResponse) -> Self {
        TestResult {
            status: r.status,
            reason: r.reason,
            headers: r
                .headers
                .into_iter()
                .map(|(name, value)| ResponseHeader { name, value })
                .collect(),
            body: String::from_utf8_lossy(&r.body).into_owned(),
            truncated: r.truncated,
        }
    }
}

/// Resolves every reference, checks the destination against each secret's allowed
/// hosts and audits the use (as `use` via `test`) under the vault lock, then sends
/// without holding it, so a slow server does not stall the app.
#[tauri::command]
#[specta::specta]
pub async fn test_request(
    state: State<'_, AppState>,
    scope: ScopeDto,
    input: TestRequestInput,
) -> IpcResult<TestResult> {
    let environment = input.environment.clone();
    let spec = input.spec();
    let prepared = state.with(|s| {
        let mut r = s.resolver(&scope.into(), Some(&environment), Purpose::new("test"))?;
        let prepared = test_request::prepare(&spec, |t| r.resolve(t))?;
        r.finish_request(prepared.destination())?;
        Ok(prepared)
    })?;
    let sent = tauri::async_runtime::spawn_blocking(move || prepared.send())
        .await
        .map_err(|_| IpcError::from(Error::Io("the test request stopped".into())))?;
    Ok(sent?.into())
}

/// Where recorded run checks (`coffer check --record`) found references to `name`.
#[tauri::command]
#[specta::specta]
pub fn secret_usages(
    state: State<'_, AppState>,
    scope: ScopeDto,
    name: String,
) -> IpcResult<Vec<Usage>> {
    state.with(|s| s.usages(&scope.into(), &name))
}
