//! `central backup` / `restore` for PostgreSQL: PostgreSQL's own tools
//! (`pg_dump` in its custom format, `pg_restore`), which take a consistent
//! snapshot of a live database without stopping the servers. The password
//! never goes on their command line (where `ps` shows it): it is handed
//! over in `PGPASSWORD`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{PgCentral, redact};
use crate::error::CentralError;

/// The URL with its password taken out, and the password.
pub(crate) fn split_password(url: &str) -> (String, Option<String>) {
    let password = url
        .parse::<postgres::Config>()
        .ok()
        .and_then(|c| c.get_password().map(|p| String::from_utf8_lossy(p).into_owned()));
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), password);
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => {
            let name = user.split_once(':').map_or(user, |(name, _)| name);
            format!("{name}@{host}")
        }
        None => authority.to_string(),
    };
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let query: Vec<&str> =
        query.split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("password=")).collect();
    let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
    (format!("{scheme}://{authority}{path}{query}"), password)
}

/// A PostgreSQL client program: `$ENUMERA_PG_BIN/NAME` when set, else the
/// one on `PATH` (Debian's `postgresql-client` puts a wrapper there that
/// picks the newest installed version).
fn tool(name: &str) -> PathBuf {
    match std::env::var_os("ENUMERA_PG_BIN") {
        Some(dir) => Path::new(&dir).join(name),
        None => PathBuf::from(name),
    }
}

fn run(name: &str, mut command: Command, url: &str, what: &str) -> Result<(), CentralError> {
    let (_, password) = split_password(url);
    if let Some(p) = password {
        command.env("PGPASSWORD", p);
    }
    let fail = |detail: String| CentralError::Postgres {
        target: redact(url),
        context: what.to_string(),
        detail,
        sqlstate: None,
    };
    let out = command.output().map_err(|e| {
        fail(format!(
            "cannot run {name} ({e}); install PostgreSQL's client programs \
             (Debian: apt-get install postgresql-client) or set ENUMERA_PG_BIN"
        ))
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(fail(format!("{name} failed ({}): {}", out.status, stderr.trim())));
    }
    Ok(())
}

impl PgCentral {
    /// Writes a consistent copy of the live database to `out` with
    /// `pg_dump --format=custom` (restorable with `restore`, or by hand
    /// with `pg_restore`).
    pub fn backup_to(&self, out: &Path) -> Result<(), CentralError> {
        let (url, _) = split_password(self.url());
        let mut command = Command::new(tool("pg_dump"));
        command
            .arg("--format=custom")
            .arg("--no-owner")
            .arg("--no-privileges")
            .arg("--file")
            .arg(out)
            .arg("--dbname")
            .arg(&url);
        run("pg_dump", command, self.url(), "backing up")
    }

    /// Restores a `backup_to` file into the empty database at `url` (made
    /// beforehand with `createdb`), in one transaction: all or nothing.
    /// Refused when that database already holds a central.
    pub fn restore_from(url: &str, backup: &Path) -> Result<(), CentralError> {
        {
            let mut client = postgres::Client::connect(url, postgres::NoTls)
                .map_err(|e| CentralError::postgres(&redact(url), "connecting", e))?;
            let used: bool = client
                .query_one("SELECT to_regclass('enumera_schema') IS NOT NULL", &[])
                .map_err(|e| CentralError::postgres(&redact(url), "checking the database", e))?
                .get(0);
            if used {
                return Err(CentralError::Postgres {
                    target: redact(url),
                    context: "restoring".into(),
                    detail: "this database already holds a central; restore into a new, empty \
                             database (createdb NAME) and point --db at it"
                        .into(),
                    sqlstate: None,
                });
            }
            // Closed off any async runtime (see `Conn`).
            let _ = std::thread::spawn(move || drop(client)).join();
        }
        let (plain, _) = split_password(url);
        let mut command = Command::new(tool("pg_restore"));
        command
            .arg("--no-owner")
            .arg("--no-privileges")
            .arg("--single-transaction")
            .arg("--exit-on-error")
            .arg("--dbname")
            .arg(&plain)
            .arg(backup);
        run("pg_restore", command, url, "restoring")?;
        // What was restored must open as a central at a schema this build
        // reads.
        PgCentral::open(url)?.forget_ingest_xids()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_taken_out_of_the_url() {
        assert_eq!(
            split_password("postgres://enumera:s3cr%40t@db.example:5433/central?sslmode=disable"),
            (
                "postgres://enumera@db.example:5433/central?sslmode=disable".into(),
                Some("s3cr@t".into())
            )
        );
        assert_eq!(
            split_password("postgresql:///central?host=/tmp/pg&password=x&user=u"),
            ("postgresql:///central?host=/tmp/pg&user=u".into(), Some("x".into()))
        );
        assert_eq!(split_password("postgres://u@h/db"), ("postgres://u@h/db".into(), None));
        assert_eq!(
            redact("postgres://u:pw@h/db?password=pw"),
            "postgres://u:***@h/db?password=***"
        );
    }
}
