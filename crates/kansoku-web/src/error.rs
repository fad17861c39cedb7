//! Errors as HTTP answers: the reader's mistakes are 400 or 404 with a sentence saying what
//! to do; the store's failures are 500 and are also logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A parameter that cannot be read (a malformed time, port or bin).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// Not logged in, or no valid token.
    #[error("{0}")]
    Unauthorized(String),
    /// A form whose CSRF token does not match.
    #[error("{0}")]
    Forbidden(String),
    /// Over a per-client limit; the client may retry after this long.
    #[error("too many requests from this address: retry in {} s", .0.as_secs().max(1))]
    TooManyRequests(std::time::Duration),
    /// Every query slot stayed taken while the request waited; retry after this long.
    #[error("the server is busy with other queries: retry in {} s", .0.as_secs().max(1))]
    Busy(std::time::Duration),
    #[error("store: {0}")]
    Store(#[from] kansoku_store::StoreError),
    #[error("chart: {0}")]
    Chart(#[from] kansoku_chart::ChartError),
    /// An advisory file that cannot be read as one (malformed front matter): names the file
    /// and what is wrong, because the operator fixes it by hand.
    #[error("advisory {file}: {reason}")]
    Advisory { file: String, reason: String },
    #[error("internal: {0}")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            // The store's and the renderer's failures name files and directories of the
            // server: they go to the log, the client learns only that it failed. An advisory
            // error is shown, since the operator fixes that file by hand (its name is relative
            // to the advisories directory).
            WebError::Store(_) | WebError::Chart(_) | WebError::Internal(_) => {
                "internal error: the server's log says more".to_owned()
            }
            _ => self.to_string(),
        };
        if status.is_server_error() {
            eprintln!("kansoku serve: {self}");
        }
        let body = serde_json::json!({ "error": message });
        let mut response = (status, axum::Json(body)).into_response();
        if let WebError::TooManyRequests(wait) | WebError::Busy(wait) = self {
            let seconds = wait.as_secs().max(1).to_string();
            if let Ok(value) = seconds.parse() {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
        }
        response
    }
}
