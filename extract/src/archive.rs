//! Zip containers: reading members under the unzipped-bytes and entries
//! caps (zip-bomb protection), and extracting the text of every member of a
//! zip archive, recursively.
//!
//! A zip's declared sizes are never trusted: every member is read through a
//! reader bounded by what is left of the budget, so a member that inflates
//! past it is cut off after budget + 1 bytes, whatever its header says.

use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::{Budget, Deadline};
use crate::outcome::Entry;

/// A zip archive over bytes in memory.
pub(crate) type Zip<'a> = ZipArchive<Cursor<&'a [u8]>>;

fn zip_error(format: Format, e: ZipError) -> Error {
    match e {
        ZipError::UnsupportedArchive(msg) if msg == ZipError::PASSWORD_REQUIRED => Error::Encrypted { format },
        ZipError::InvalidPassword => Error::Encrypted { format },
        e => Error::Malformed { format, reason: e.to_string() },
    }
}

/// Opens `bytes` as a zip and charges its member count to the budget.
pub(crate) fn open<'a>(bytes: &'a [u8], format: Format, budget: &mut Budget) -> Result<Zip<'a>> {
    let archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_error(format, e))?;
    let n = archive.len() as u64;
    if n > budget.entries_left {
        return Err(Error::ZipBomb {
            reason: format!("{n} zip members, over the cap of members left ({})", budget.entries_left),
        });
    }
    budget.entries_left -= n;
    Ok(archive)
}

const CHUNK: usize = 1 << 20;

/// Reads member `index` whole, charging its real unpacked size to the budget.
pub(crate) fn read_member(
    archive: &mut Zip<'_>,
    index: usize,
    format: Format,
    budget: &mut Budget,
    deadline: &Deadline,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    read_bounded(archive, index, format, budget, deadline, Some(&mut out))?;
    Ok(out)
}

/// Unpacks every member of an OOXML/ODF container without keeping it, so
/// that a zip bomb dressed as an `.xlsx` is refused before a reader that
/// trusts the container (calamine) inflates it. Returns the first KiB and
/// the size of the part named `peek`, if there is one.
pub(crate) fn check_container(
    bytes: &[u8],
    format: Format,
    budget: &mut Budget,
    deadline: &Deadline,
    peek: &str,
) -> Result<Option<(Vec<u8>, u64)>> {
    let mut archive = open(bytes, format, budget)?;
    let peek_index = archive.index_for_name(peek);
    let mut peeked = None;
    for i in 0..archive.len() {
        if Some(i) == peek_index {
            let mut head = Vec::new();
            let size = read_bounded(&mut archive, i, format, budget, deadline, Some(&mut head))?;
            head.truncate(1024);
            peeked = Some((head, size));
        } else {
            read_bounded(&mut archive, i, format, budget, deadline, None)?;
        }
    }
    Ok(peeked)
}

fn read_bounded(
    archive: &mut Zip<'_>,
    index: usize,
    format: Format,
    budget: &mut Budget,
    deadline: &Deadline,
    mut keep: Option<&mut Vec<u8>>,
) -> Result<u64> {
    let member = archive.by_index(index).map_err(|e| zip_error(format, e))?;
    let name = String::from_utf8_lossy(member.name_raw()).into_owned();
    let mut bounded = member.take(budget.unzipped_left.saturating_add(1));
    let chunk = budget.unzipped_left.saturating_add(1).min(CHUNK as u64);
    let mut buf = vec![0u8; chunk as usize];
    let mut total: u64 = 0;
    loop {
        deadline.check(format)?;
        let n = match bounded.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Malformed { format, reason: format!("zip member {name}: {e}") });
            }
        };
        total += n as u64;
        if total > budget.unzipped_left {
            return Err(Error::ZipBomb {
                reason: format!(
                    "zip member {name} unpacks past the cap of {} unzipped bytes left",
                    budget.unzipped_left
                ),
            });
        }
        if let Some(out) = keep.as_deref_mut() {
            out.extend_from_slice(&buf[..n]);
        }
    }
    budget.unzipped_left -= total;
    Ok(total)
}

/// A member's name: UTF-8 when it is (the zip flag is often missing), else
/// GB18030, which Chinese Windows zip tools write.
fn member_name(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(raw).0.into_owned(),
    }
}

/// One member of an archive, to be extracted by the caller.
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) bytes: Vec<u8>,
}

/// Hands each file member of a zip archive to `each` (directories and macOS
/// resource forks skipped), one at a time so that only one is in memory. An
/// encrypted or damaged member comes as an entry with its error; a zip bomb
/// or the deadline fails the whole archive.
pub(crate) fn for_each_member(
    bytes: &[u8],
    budget: &mut Budget,
    deadline: &Deadline,
    mut each: impl FnMut(std::result::Result<Member, Entry>, &mut Budget) -> Result<()>,
) -> Result<()> {
    let mut archive = open(bytes, Format::Zip, budget)?;
    for i in 0..archive.len() {
        let (name, is_dir) = match archive.by_index_raw(i) {
            Ok(m) => (member_name(m.name_raw()), m.is_dir()),
            Err(e) => {
                let error = zip_error(Format::Zip, e).to_string();
                each(Err(Entry::failed(format!("#{i}"), Format::Unknown, error)), budget)?;
                continue;
            }
        };
        if is_dir || name.starts_with("__MACOSX/") {
            continue;
        }
        match read_member(&mut archive, i, Format::Zip, budget, deadline) {
            Ok(bytes) => each(Ok(Member { name, bytes }), budget)?,
            Err(e @ (Error::ZipBomb { .. } | Error::Timeout { .. })) => return Err(e),
            Err(e) => each(Err(Entry::failed(name, Format::Unknown, e.to_string())), budget)?,
        }
    }
    Ok(())
}
