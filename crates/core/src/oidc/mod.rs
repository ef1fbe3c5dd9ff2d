//! The OpenID Connect provider (issue 14): clients, signing keys, authorization codes,
//! tokens and the claims of an account.

pub mod model;
