//! The inventory in SQLite (feature `sqlite`, rusqlite with the bundled library): one file
//! holds devices, revocations and the revocation list version.

use super::inventory::{
    AttestationRecord, DeviceRecord, DeviceStatus, InventoryStore, RevokedEntry, StoreError,
};
use crate::ueid::Ueid;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS devices (
    ueid BLOB PRIMARY KEY NOT NULL,
    model TEXT,
    serial BLOB NOT NULL,
    fingerprint BLOB NOT NULL,
    not_after INTEGER NOT NULL,
    enrolled_at INTEGER NOT NULL,
    firmware_version TEXT,
    status TEXT NOT NULL,
    attested_at INTEGER,
    attestation_result TEXT
);
CREATE INDEX IF NOT EXISTS devices_serial ON devices (serial);
CREATE TABLE IF NOT EXISTS revocations (
    serial BLOB PRIMARY KEY NOT NULL,
    ueid BLOB NOT NULL,
    time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);
";

const DEVICE_COLUMNS: &str = "ueid, model, serial, fingerprint, not_after, enrolled_at, \
     firmware_version, status, attested_at, attestation_result";

/// An [`InventoryStore`] in a SQLite database.
#[derive(Debug)]
pub struct SqliteInventory {
    conn: Connection,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Times and versions are `u64`; SQLite integers are `i64`.
fn int(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Backend("integer above 2^63".into()))
}

fn uint(v: i64, what: &'static str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(what))
}

/// The raw columns of one `devices` row, converted after the query.
type RawDevice = (
    Vec<u8>,
    Option<String>,
    Vec<u8>,
    Vec<u8>,
    i64,
    i64,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
);

fn raw_device(row: &Row<'_>) -> rusqlite::Result<RawDevice> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
    ))
}

fn device(raw: RawDevice) -> Result<DeviceRecord, StoreError> {
    let (ueid, model, serial, fingerprint, not_after, enrolled_at, fw, status, at, result) = raw;
    let last_attestation = match (at, result) {
        (Some(t), Some(result)) => Some(AttestationRecord {
            time: uint(t, "attestation time")?,
            result,
        }),
        _ => None,
    };
    Ok(DeviceRecord {
        ueid: Ueid::from_bytes(&ueid).map_err(|_| StoreError::Corrupt("UEID"))?,
        model,
        serial,
        fingerprint: fingerprint
            .try_into()
            .map_err(|_| StoreError::Corrupt("fingerprint"))?,
        not_after: uint(not_after, "notAfter")?,
        enrolled_at: uint(enrolled_at, "enrolment time")?,
        firmware_version: fw,
        status: DeviceStatus::from_name(&status).ok_or(StoreError::Corrupt("status"))?,
        last_attestation,
    })
}

impl SqliteInventory {
    /// Opens (or creates) the database at `path` and its tables.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::with_connection(Connection::open(path).map_err(backend)?)
    }

    /// A database in memory (tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory().map_err(backend)?)
    }

    fn with_connection(conn: Connection) -> Result<Self, StoreError> {
        // Another process (a second tool run) may hold the write lock for a moment.
        conn.busy_timeout(core::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(Self { conn })
    }

    fn query_one(&self, filter: &str, key: &[u8]) -> Result<Option<DeviceRecord>, StoreError> {
        let sql = alloc::format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE {filter} = ?1");
        self.conn
            .query_row(&sql, [key], raw_device)
            .optional()
            .map_err(backend)?
            .map(device)
            .transpose()
    }

    /// Runs an UPDATE of one device; [`StoreError::NotFound`] if no row changed.
    fn update_one(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
        match self.conn.execute(sql, params).map_err(backend)? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }
}

impl InventoryStore for SqliteInventory {
    fn upsert(&mut self, r: &DeviceRecord) -> Result<(), StoreError> {
        let (at, result) = match &r.last_attestation {
            Some(a) => (Some(int(a.time)?), Some(a.result.as_str())),
            None => (None, None),
        };
        let sql = alloc::format!(
            "INSERT OR REPLACE INTO devices ({DEVICE_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        );
        self.conn
            .execute(
                &sql,
                params![
                    r.ueid.as_bytes(),
                    r.model,
                    r.serial,
                    r.fingerprint.as_slice(),
                    int(r.not_after)?,
                    int(r.enrolled_at)?,
                    r.firmware_version,
                    r.status.as_str(),
                    at,
                    result,
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn get(&self, ueid: &Ueid) -> Result<Option<DeviceRecord>, StoreError> {
        self.query_one("ueid", ueid.as_bytes())
    }

    fn get_by_serial(&self, serial: &[u8]) -> Result<Option<DeviceRecord>, StoreError> {
        self.query_one("serial", serial)
    }

    fn list(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        let sql =
            alloc::format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY enrolled_at, rowid");
        let mut stmt = self.conn.prepare(&sql).map_err(backend)?;
        let rows = stmt
            .query_map([], raw_device)
            .map_err(backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        rows.into_iter().map(device).collect()
    }

    fn set_status(&mut self, ueid: &Ueid, status: DeviceStatus) -> Result<(), StoreError> {
        self.update_one(
            "UPDATE devices SET status = ?2 WHERE ueid = ?1",
            params![ueid.as_bytes(), status.as_str()],
        )
    }

    fn record_attestation(
        &mut self,
        ueid: &Ueid,
        attestation: &AttestationRecord,
    ) -> Result<(), StoreError> {
        self.update_one(
            "UPDATE devices SET attested_at = ?2, attestation_result = ?3 WHERE ueid = ?1",
            params![ueid.as_bytes(), int(attestation.time)?, attestation.result],
        )
    }

    fn set_firmware_version(&mut self, ueid: &Ueid, version: &str) -> Result<(), StoreError> {
        self.update_one(
            "UPDATE devices SET firmware_version = ?2 WHERE ueid = ?1",
            params![ueid.as_bytes(), version],
        )
    }

    fn revoke(&mut self, entry: &RevokedEntry) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(backend)?;
        let changed = tx
            .execute(
                "UPDATE devices SET status = ?2 WHERE ueid = ?1",
                params![entry.ueid.as_bytes(), DeviceStatus::Revoked.as_str()],
            )
            .map_err(backend)?;
        if changed == 0 {
            // Dropping the transaction rolls it back.
            return Err(StoreError::NotFound);
        }
        tx.execute(
            "INSERT OR IGNORE INTO revocations (serial, ueid, time) VALUES (?1, ?2, ?3)",
            params![entry.serial, entry.ueid.as_bytes(), int(entry.time)?],
        )
        .map_err(backend)?;
        tx.commit().map_err(backend)
    }

    fn revocations(&self) -> Result<Vec<RevokedEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT serial, ueid, time FROM revocations ORDER BY rowid")
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, Vec<u8>>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })
            .map_err(backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        rows.into_iter()
            .map(|(serial, ueid, time)| {
                Ok(RevokedEntry {
                    serial,
                    ueid: Ueid::from_bytes(&ueid).map_err(|_| StoreError::Corrupt("UEID"))?,
                    time: uint(time, "revocation time")?,
                })
            })
            .collect()
    }

    fn next_list_version(&mut self) -> Result<u64, StoreError> {
        let v: i64 = self
            .conn
            .query_row(
                "INSERT INTO meta (key, value) VALUES ('list_version', 1) \
                 ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value",
                [],
                |row| row.get(0),
            )
            .map_err(backend)?;
        uint(v, "list version")
    }
}
