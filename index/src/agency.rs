//! The one table of the known agencies: facet label, names, and the hosts
//! that belong to each. [`Source`]'s labels and host lookup read it, and so
//! do the crawler's sources (the hosts of the site each crawls) and the
//! search page (through the server's `/api/sources`).

use crate::notice::Source;

/// One known agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    /// Its facet value.
    pub source: Source,
    /// The facet label (`NMPA`).
    pub label: &'static str,
    /// Chinese name, as the search page shows it.
    pub name_zh: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Registered domains: a URL on any of them or a subdomain is this
    /// agency's (`sbj.cnipa.gov.cn` is CNIPA).
    pub domains: &'static [&'static str],
    /// The hosts of the site the crawler visits: links to them are moved
    /// onto a mirror's base URL when one is configured.
    pub hosts: &'static [&'static str],
}

/// The known agencies, in facet (display) order.
pub const AGENCIES: [Agency; 5] = [
    Agency {
        source: Source::Cnipa,
        label: "CNIPA",
        name_zh: "国家知识产权局",
        name_en: "China National Intellectual Property Administration",
        domains: &["cnipa.gov.cn", "sipo.gov.cn"],
        hosts: &["www.cnipa.gov.cn", "cnipa.gov.cn"],
    },
    Agency {
        source: Source::Cde,
        label: "CDE",
        name_zh: "药审中心",
        name_en: "Center for Drug Evaluation, NMPA",
        domains: &["cde.org.cn"],
        hosts: &["www.cde.org.cn", "cde.org.cn"],
    },
    Agency {
        source: Source::Nmpa,
        label: "NMPA",
        name_zh: "国家药监局",
        name_en: "National Medical Products Administration",
        domains: &["nmpa.gov.cn"],
        hosts: &["www.nmpa.gov.cn", "nmpa.gov.cn"],
    },
    Agency {
        source: Source::Fda,
        label: "FDA",
        name_zh: "美国 FDA",
        name_en: "US Food and Drug Administration",
        domains: &["fda.gov"],
        hosts: &["www.fda.gov", "fda.gov"],
    },
    Agency {
        source: Source::Eca,
        label: "ECA",
        name_zh: "ECA GMP",
        name_en: "ECA Academy GMP news",
        domains: &["gmp-compliance.org", "gxp-services.net"],
        hosts: &["www.gmp-compliance.org", "gmp-compliance.org", "app.gxp-services.net"],
    },
];

/// The agency of a known source; `None` for `Source::Other`.
pub fn of(source: &Source) -> Option<&'static Agency> {
    AGENCIES.iter().find(|a| a.source == *source)
}

/// The agency a host belongs to (by its registered domains).
pub fn by_host(host: &str) -> Option<&'static Agency> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    AGENCIES.iter().find(|a| a.domains.iter().any(|d| host == *d || host.ends_with(&format!(".{d}"))))
}

/// The agency with this facet label (case-insensitive).
pub fn by_label(label: &str) -> Option<&'static Agency> {
    AGENCIES.iter().find(|a| a.label.eq_ignore_ascii_case(label.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_the_known_sources_in_order() {
        let table: Vec<&Source> = AGENCIES.iter().map(|a| &a.source).collect();
        assert_eq!(table, Source::KNOWN.iter().collect::<Vec<_>>());
        for a in &AGENCIES {
            assert_eq!(a.source.label(), a.label);
            for h in a.hosts {
                assert_eq!(by_host(h).map(|x| x.label), Some(a.label), "{h}");
            }
        }
        assert_eq!(by_host("SBJ.cnipa.gov.cn.").map(|a| a.label), Some("CNIPA"));
        assert!(by_host("notcnipa.gov.cn").is_none());
    }
}
