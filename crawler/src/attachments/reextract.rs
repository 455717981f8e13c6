//! `notices reextract`: kept files read again by a newer extractor.

use super::{KeptFiles, read};
use crate::error::Result;

/// What [`reextract`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reextracted {
    /// Attachments read again from their kept copy.
    pub read_again: u64,
    /// Notices whose text changed and were re-indexed.
    pub notices_changed: u64,
    /// Attachments read by an older extractor whose copy is no longer kept
    /// (the next crawl downloads them again).
    pub not_kept: u64,
    /// Attachments already read by this extractor version.
    pub current: u64,
}

/// Reads again, from their kept copies, the attachments read by an older
/// extractor version (every downloaded one with `all`), and stores the
/// notices whose text changed through the store. No download.
pub fn reextract(
    store: &mut crate::store::NoticeStore,
    kept: &KeptFiles,
    limits: &extract::Limits,
    all: bool,
) -> Result<Reextracted> {
    let mut done = Reextracted::default();
    // A handle of its own: the loop writes through `store` while it reads.
    let index = store.index().clone();
    index.for_each_notice(|mut notice| -> Result<()> {
        let mut changed = false;
        for a in &mut notice.attachments {
            let Some(old) = &a.file else { continue };
            if !all && old.extractor >= extract::EXTRACTOR_VERSION {
                done.current += 1;
                continue;
            }
            let Some(bytes) = kept.bytes_of(&old.sha256) else {
                done.not_kept += 1;
                continue;
            };
            let got = extract::extract_capped(bytes.clone(), &a.url, old.content_type.as_deref(), limits);
            let new = read(&bytes, &old.sha256, old.content_type.as_deref(), got);
            done.read_again += 1;
            kept.keep(&bytes, &new);
            if &new != old {
                a.file = Some(new);
                changed = true;
            }
        }
        if changed && store.accept(crate::store::Arrival::reextracted(notice))? != crate::store::Stored::Unchanged {
            done.notices_changed += 1;
        }
        Ok(())
    })?;
    store.commit("reextract")?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Arrival, NoticeStore};

    /// A file read by an older extractor is read again from its kept copy;
    /// then it is current and left alone unless `all`.
    #[test]
    fn only_files_read_by_an_older_extractor_are_read_again() {
        let tmp = tempfile::tempdir().unwrap();
        let kept = KeptFiles::new(tmp.path(), 16);
        let bytes = "一份附件的正文：药品注册".as_bytes().to_vec();
        let sha = super::super::sha256(&bytes);
        let mut old =
            read(&bytes, &sha, Some("text/plain"), Err(extract::Error::Encrypted { format: extract::Format::Text }));
        old.extractor = 0;
        kept.keep(&bytes, &old);
        let mut notice = index::Notice::crawled(index::Source::Other("a.cn".into()), "http://a.cn/n", "通知", "正文");
        notice.attachments = vec![index::Attachment::new("http://a.cn/f.txt", None)];
        notice.attachments[0].file = Some(old);
        let mut store = NoticeStore::open(tmp.path()).unwrap();
        store.accept(Arrival::imported(notice.clone())).unwrap();
        store.commit("test").unwrap();

        let limits = extract::Limits::default();
        let done = reextract(&mut store, &kept, &limits, false).unwrap();
        assert_eq!((done.read_again, done.notices_changed, done.current), (1, 1, 0), "{done:?}");
        let file = store.get(&notice.id).unwrap().unwrap().attachments[0].file.clone().unwrap();
        assert_eq!((file.extractor, file.error.as_deref()), (extract::EXTRACTOR_VERSION, None));
        assert!(file.text.unwrap().contains("药品注册"));
        let again = reextract(&mut store, &kept, &limits, false).unwrap();
        assert_eq!((again.read_again, again.current), (0, 1), "{again:?}");
        let all = reextract(&mut store, &kept, &limits, true).unwrap();
        assert_eq!((all.read_again, all.notices_changed), (1, 0), "{all:?}");
    }
}
