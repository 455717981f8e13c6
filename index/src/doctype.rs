//! What kind of document a notice is, and whether it is a draft: the
//! fields regulatory people filter by.
//!
//! A *draft for comment* (征求意见稿) is a [`Status`], not a [`DocType`]:
//! a draft guideline is a guideline whose status is draft, so "every
//! guideline" and "every open draft" are both one filter.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The kind of document, from the source's own markers (FDA's communication
/// type, CDE's and NMPA's columns, the genre word that ends a Chinese
/// official title: …的公告, …的通告, …的通知).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocType {
    /// 公告: a formal public announcement (NMPA's numbered 公告).
    Announcement,
    /// 通告: a circular (NMPA/CDE 通告, often publishing a guideline).
    Circular,
    /// 通知: a notice to the regulated parties or to lower authorities.
    Notice,
    /// 指导原则 / technical guideline (CDE, ICH, EMA).
    Guideline,
    /// A guidance document (FDA guidance, small entity compliance guide).
    Guidance,
    /// A warning letter.
    WarningLetter,
    /// News, reports of meetings and events.
    News,
    /// Questions and answers (问答).
    Qa,
    /// A regulation, rule or measures (办法, 规定, 条例, 规范).
    Regulation,
    /// A standard (标准, pharmacopoeia texts).
    Standard,
    /// Anything else a source marks.
    Other,
}

impl DocType {
    /// Every type, in display order.
    pub const ALL: [DocType; 11] = [
        DocType::Announcement,
        DocType::Circular,
        DocType::Notice,
        DocType::Guideline,
        DocType::Guidance,
        DocType::WarningLetter,
        DocType::News,
        DocType::Qa,
        DocType::Regulation,
        DocType::Standard,
        DocType::Other,
    ];

    /// The stable id used in JSON, facets and filters (`announcement`, `warning_letter` ...).
    pub fn id(self) -> &'static str {
        match self {
            DocType::Announcement => "announcement",
            DocType::Circular => "circular",
            DocType::Notice => "notice",
            DocType::Guideline => "guideline",
            DocType::Guidance => "guidance",
            DocType::WarningLetter => "warning_letter",
            DocType::News => "news",
            DocType::Qa => "qa",
            DocType::Regulation => "regulation",
            DocType::Standard => "standard",
            DocType::Other => "other",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            DocType::Announcement => "公告",
            DocType::Circular => "通告",
            DocType::Notice => "通知",
            DocType::Guideline => "指导原则",
            DocType::Guidance => "指南",
            DocType::WarningLetter => "警告信",
            DocType::News => "新闻",
            DocType::Qa => "问答",
            DocType::Regulation => "法规规章",
            DocType::Standard => "标准",
            DocType::Other => "其他",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            DocType::Announcement => "Announcement",
            DocType::Circular => "Circular",
            DocType::Notice => "Notice",
            DocType::Guideline => "Guideline",
            DocType::Guidance => "Guidance",
            DocType::WarningLetter => "Warning letter",
            DocType::News => "News",
            DocType::Qa => "Q&A",
            DocType::Regulation => "Regulation",
            DocType::Standard => "Standard",
            DocType::Other => "Other",
        }
    }

    /// Comma-separated ids, for error messages.
    pub fn known_list() -> String {
        DocType::ALL.iter().map(|t| t.id()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for DocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for DocType {
    type Err = Error;

    /// The id, either label, or a common alias (`q&a`, `warning-letter`,
    /// `指导原则`), case-insensitively.
    fn from_str(s: &str) -> Result<DocType> {
        let t = s.trim();
        let key = t.to_ascii_lowercase().replace(['-', ' '], "_");
        let alias = match key.as_str() {
            "q&a" | "q_and_a" | "faq" => Some(DocType::Qa),
            "guidance_document" => Some(DocType::Guidance),
            "warning" => Some(DocType::WarningLetter),
            _ => None,
        };
        alias
            .or_else(|| {
                DocType::ALL.into_iter().find(|d| {
                    d.id() == key || d.label_zh() == t || d.label_en().eq_ignore_ascii_case(t) || d.label_en() == key
                })
            })
            .ok_or_else(|| Error::UnknownDocType { given: s.to_string(), known: DocType::known_list() })
    }
}

/// Draft for comment or final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 征求意见稿 / draft for comment: not in force, comments invited.
    Draft,
    /// Issued, final.
    Final,
}

impl Status {
    /// Both, in display order.
    pub const ALL: [Status; 2] = [Status::Draft, Status::Final];

    /// `draft` or `final`.
    pub fn id(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Final => "final",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Draft => "征求意见稿",
            Status::Final => "正式发布",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Status::Draft => "Draft for comment",
            Status::Final => "Final",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Status {
    type Err = Error;

    /// `draft` or `final` (also their labels), case-insensitively.
    fn from_str(s: &str) -> Result<Status> {
        let t = s.trim();
        Status::ALL
            .into_iter()
            .find(|st| st.id().eq_ignore_ascii_case(t) || st.label_zh() == t || st.label_en().eq_ignore_ascii_case(t))
            .ok_or_else(|| Error::InvalidStatus(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_labels_and_serde_agree() {
        for t in DocType::ALL {
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.id()));
            assert_eq!(t.id().parse::<DocType>().unwrap(), t);
            assert_eq!(t.label_zh().parse::<DocType>().unwrap(), t);
            assert_eq!(t.label_en().to_uppercase().parse::<DocType>().unwrap(), t);
        }
        assert_eq!("Warning-Letter".parse::<DocType>().unwrap(), DocType::WarningLetter);
        assert_eq!("q&a".parse::<DocType>().unwrap(), DocType::Qa);
        for s in Status::ALL {
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.id()));
            assert_eq!(s.id().to_uppercase().parse::<Status>().unwrap(), s);
            assert_eq!(s.label_zh().parse::<Status>().unwrap(), s);
        }
    }

    #[test]
    fn unknown_values_are_named() {
        let msg = "memo".parse::<DocType>().unwrap_err().to_string();
        assert!(msg.contains("memo") && msg.contains("warning_letter"), "{msg}");
        let msg = "pending".parse::<Status>().unwrap_err().to_string();
        assert!(msg.contains("pending") && msg.contains("draft"), "{msg}");
    }
}
