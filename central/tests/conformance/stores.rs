//! The stores the conformance suite runs against: a SQLite file, and a
//! PostgreSQL database made for each test in the cluster named by
//! `ENUMERA_TEST_POSTGRES` (scripts/postgres-cluster.sh starts one; the
//! test command does). Without it the PostgreSQL tests say so and pass,
//! unless `ENUMERA_REQUIRE_POSTGRES=1` (set by the test command), which
//! makes its absence a failure.

use std::fmt::Debug;
use std::sync::Mutex;

use enumera_central::{AnyStore, Central, Location};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// Makes fresh centrals of one kind; drops the PostgreSQL databases it
/// made when dropped (declare it first in a test, so it goes last).
#[derive(Debug)]
pub struct Backend {
    pub kind: Kind,
    dir: tempfile::TempDir,
    /// Admin URL of the cluster (PostgreSQL).
    admin: Option<String>,
    made: Mutex<Vec<String>>,
}

/// The cluster's URL for the tests, or `None` (with a note) without one.
pub fn postgres_url() -> Option<String> {
    match std::env::var("ENUMERA_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("ENUMERA_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("ENUMERA_REQUIRE_POSTGRES=1 but ENUMERA_TEST_POSTGRES is not set");
            }
            eprintln!(
                "skipped: no PostgreSQL for this test (ENUMERA_TEST_POSTGRES unset; \
                 scripts/test.sh starts a throwaway cluster for them: scripts/postgres-cluster.sh)"
            );
            None
        }
    }
}

/// `base` (any database of the cluster) pointed at database `name`.
pub fn with_database(base: &str, name: &str) -> String {
    let (scheme, rest) = base.split_once("://").expect("a URL");
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let query = tail.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// A new, empty database in the cluster; its URL.
pub fn create_database(admin: &str) -> (String, String) {
    let name = format!("enumera_test_{}", uuid::Uuid::new_v4().simple());
    let mut client = postgres::Client::connect(admin, postgres::NoTls).expect("connect to cluster");
    client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
    (with_database(admin, &name), name)
}

pub fn drop_database(admin: &str, name: &str) {
    if let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls) {
        let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

impl Backend {
    pub fn sqlite() -> Option<Backend> {
        Some(Backend {
            kind: Kind::Sqlite,
            dir: crate::common::tempdir(),
            admin: None,
            made: Mutex::new(Vec::new()),
        })
    }

    pub fn postgres() -> Option<Backend> {
        Some(Backend {
            kind: Kind::Postgres,
            dir: crate::common::tempdir(),
            admin: Some(postgres_url()?),
            made: Mutex::new(Vec::new()),
        })
    }

    /// A place for a new, empty database of this kind (not initialized).
    pub fn new_location(&self) -> Location {
        match &self.admin {
            None => {
                let n = self.made.lock().expect("lock").len();
                self.made.lock().expect("lock").push(String::new());
                Location::File(self.dir.path().join(format!("central-{n}.db")))
            }
            Some(admin) => {
                let (url, name) = create_database(admin);
                self.made.lock().expect("lock").push(name);
                Location::Postgres(url)
            }
        }
    }

    /// A fresh, initialized central and where it is.
    pub fn fresh_at(&self) -> (Central<AnyStore>, Location) {
        let at = self.new_location();
        (Central::init_at(&at).expect("init"), at)
    }

    pub fn fresh(&self) -> Central<AnyStore> {
        self.fresh_at().0
    }

    /// A scratch folder that lives as long as the backend.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Runs `scenario` on a fresh central of this kind; for PostgreSQL,
    /// runs it on a fresh SQLite central too, with the same inputs, and
    /// requires the same canonical dump and the same result: the two
    /// stores hold the same for the same bundles.
    pub fn check<T: PartialEq + Debug>(
        &self,
        scenario: impl Fn(&mut Central<AnyStore>, &Backend) -> T,
    ) -> T {
        let mut c = self.fresh();
        let out = scenario(&mut c, self);
        if self.kind == Kind::Postgres {
            let sqlite = Backend::sqlite().expect("sqlite");
            let mut reference = sqlite.fresh();
            let expected = scenario(&mut reference, &sqlite);
            assert_eq!(
                c.canonical_dump().expect("dump"),
                reference.canonical_dump().expect("dump"),
                "PostgreSQL and SQLite hold different things for the same bundles"
            );
            assert_eq!(out, expected, "PostgreSQL and SQLite answer differently");
        }
        out
    }

    /// Runs SQL on the database at `at` over a connection of its own (as
    /// any program with access could); the database's error, if refused.
    pub fn raw(&self, at: &Location, sql: &str) -> Result<(), String> {
        match at {
            Location::File(path) => {
                let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
                conn.execute_batch(sql).map_err(|e| e.to_string())
            }
            Location::Postgres(url) => {
                let mut client =
                    postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())?;
                client.batch_execute(sql).map_err(|e| {
                    e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string())
                })
            }
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(admin) = &self.admin {
            for name in self.made.lock().map(|m| m.clone()).unwrap_or_default() {
                drop_database(admin, &name);
            }
        }
    }
}
