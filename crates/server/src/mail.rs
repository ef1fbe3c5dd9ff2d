//! Mail delivery: SMTP (lettre) for production, a file outbox for development and tests.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use gatehouse_core::{CoreError, Email, Mailer};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Writes each message as a text file `NNNNNN-<to>.txt` in a folder.
#[derive(Debug)]
pub struct FileOutbox {
    dir: PathBuf,
    from: String,
    seq: AtomicU64,
}

impl FileOutbox {
    /// An outbox in `dir` (created if missing).
    pub fn new(dir: PathBuf, from: &str) -> Result<Self, CoreError> {
        std::fs::create_dir_all(&dir).map_err(|e| {
            CoreError::Internal(format!(
                "cannot create the mail outbox `{}`: {e}",
                dir.display()
            ))
        })?;
        let existing = std::fs::read_dir(&dir)
            .map(|d| d.count() as u64)
            .unwrap_or(0);
        Ok(FileOutbox {
            dir,
            from: from.to_owned(),
            seq: AtomicU64::new(existing),
        })
    }
}

#[async_trait]
impl Mailer for FileOutbox {
    async fn send(&self, to: &Email, subject: &str, body: &str) -> Result<(), CoreError> {
        let n = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let path = self.dir.join(format!(
            "{n:06}-{}.txt",
            to.as_str().replace(['/', '\\'], "_")
        ));
        let text = format!(
            "From: {}\nTo: {}\nSubject: {subject}\n\n{body}",
            self.from,
            to.as_str()
        );
        tokio::fs::write(&path, text).await.map_err(|e| {
            CoreError::Internal(format!("cannot write mail to `{}`: {e}", path.display()))
        })
    }
}

/// SMTP settings.
#[derive(Clone)]
pub struct SmtpSettings {
    /// Host name.
    pub host: String,
    /// Port (587 with STARTTLS by default, 465 for implicit TLS, 25 for a local relay).
    pub port: u16,
    /// `starttls`, `tls` or `none` (only for a relay on this machine).
    pub security: String,
    /// User name, if the server wants one.
    pub username: Option<String>,
    /// Password (redacted in Debug).
    pub password: Option<String>,
    /// Sender address.
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

/// Sends over SMTP.
#[derive(Debug)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// Builds the transport (no connection is made until the first message).
    pub fn new(s: &SmtpSettings) -> Result<Self, CoreError> {
        let bad = |e: String| CoreError::invalid("mail", e);
        let builder = match s.security.as_str() {
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                .map_err(|e| bad(format!("mail.smtp_host `{}`: {e}", s.host)))?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                .map_err(|e| bad(format!("mail.smtp_host `{}`: {e}", s.host)))?,
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            other => {
                return Err(bad(format!(
                    "mail.smtp_security `{other}`: use starttls, tls or none"
                )))
            }
        };
        let mut builder = builder.port(s.port);
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        let from = s
            .from
            .parse::<Mailbox>()
            .map_err(|e| bad(format!("mail.from `{}`: {e}", s.from)))?;
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, to: &Email, subject: &str, body: &str) -> Result<(), CoreError> {
        let to: Mailbox = to
            .as_str()
            .parse()
            .map_err(|e| CoreError::Internal(format!("cannot address mail to `{to}`: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body.to_owned())
            .map_err(|e| CoreError::Internal(format!("cannot build mail: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| CoreError::Internal(format!("sending mail failed: {e}")))
    }
}
