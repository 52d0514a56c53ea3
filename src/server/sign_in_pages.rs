//! The pages a browser sees around signing in: the report's answer without credentials (with
//! the "Sign in with GitHub" link) and the refusals of a sign-in (not a member, a forged or
//! replayed callback). Templates under `templates/report/`.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Inline style only; the one form posts to this service (`/logout`).
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[derive(Template)]
#[template(path = "report/sign_in.html")]
struct SignInPage<'a> {
    owner: &'a str,
    why: &'a str,
    href: &'a str,
    signed_in_as: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "report/sign_in_refused.html")]
struct RefusedPage<'a> {
    title: &'a str,
    why: &'a str,
    retry: Option<&'a str>,
    signed_in_as: Option<&'a str>,
}

/// `/login?owner=…&next=…`, the link that starts a sign-in for `owner`'s report.
pub fn login_href(owner: &str, next: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("owner", owner)
        .append_pair("next", next)
        .finish();
    format!("/login?{query}")
}

/// 401 for `owner`'s report page, with the sign-in link; the `WWW-Authenticate` challenge of
/// the bearer tokens stays, so scripts see what they always saw.
pub fn sign_in(owner: &str, next: &str, why: &str, signed_in_as: Option<&str>) -> Response {
    let href = login_href(owner, next);
    let page = SignInPage {
        owner,
        why,
        href: &href,
        signed_in_as,
    };
    let mut res = html(StatusCode::UNAUTHORIZED, page.render());
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"immutabot\""),
    );
    res
}

/// A refused sign-in: `status`, a title, the reason, and a link to try again when one helps.
pub fn refused(
    status: StatusCode,
    title: &str,
    why: &str,
    retry: Option<&str>,
    signed_in_as: Option<&str>,
) -> Response {
    let page = RefusedPage {
        title,
        why,
        retry,
        signed_in_as,
    };
    html(status, page.render())
}

fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "sign-in page template failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "template error\n").into_response();
        }
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}
