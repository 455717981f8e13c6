//! A deterministic synthetic corpus for benchmarks: bilingual notices of
//! realistic shape, the same for the same seed on every machine.
//!
//! Chinese bodies (1–20 KB, log-uniform, so most are short) are assembled
//! from the sentences of a seed text (the sample digest) and from templates
//! over a vocabulary of regulatory terms; about a fifth of the notices are
//! English (FDA, ECA). Document numbers follow each agency's pattern, dates
//! spread over 2010–2024 (a few undated), and the five sources all occur.
//! Notices come one at a time from an iterator, so a million of them never
//! sit in memory together.
//!
//! Two profiles ([`Profile`]). The default, `Synthetic`, draws every
//! sentence's terms from the whole vocabulary and every quoted sentence from
//! the whole seed text, so a typical regulatory term occurs in most notices
//! (`一致性评价` in 61 % of them): a stress test of broad queries.
//! `Realistic` gives each notice a topic, as real notices have: one or two
//! terms of its agency's field that its template sentences are about, and a
//! run of consecutive seed sentences (a passage of one earlier notice)
//! instead of sentences from everywhere. A typical query term then occurs
//! in 0.1–5 % of the notices and only broad words (`通知`, `药品`,
//! `guidance`) in more than 30 % (figures in BENCHMARKS.md).
//!
//! The random generator is a local SplitMix64, not a crate, so that a new
//! version of a dependency cannot change the corpus and the figures.
//!
//! ```
//! let seed_text = "国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告。";
//! let a: Vec<_> = index::synth::Corpus::new(7, seed_text).take(3).collect();
//! let b: Vec<_> = index::synth::Corpus::new(7, seed_text).take(3).collect();
//! assert_eq!(a, b);
//! ```

use chrono::NaiveDate;

use crate::notice::{Lang, Notice, Source};

/// Seed used by the benchmarks and `notices gen-corpus` unless told otherwise.
pub const DEFAULT_SEED: u64 = 0x6e6f_7469_6365_7321;

/// Share of English notices, in percent.
const ENGLISH_PERCENT: u64 = 20;
/// Smallest and largest body, in bytes.
const BODY_MIN: f64 = 1024.0;
const BODY_MAX: f64 = 20.0 * 1024.0;

/// SplitMix64: tiny, fast and fully specified.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Regulatory terms mixed into the Chinese text.
pub const ZH_TERMS: &[&str] = &[
    "知识产权",
    "专利",
    "商标",
    "地理标志",
    "专利代理",
    "专利审查",
    "商标注册",
    "集成电路布图设计",
    "药品注册",
    "仿制药",
    "一致性评价",
    "注射剂",
    "原料药",
    "临床试验",
    "医疗器械",
    "体外诊断试剂",
    "药物警戒",
    "不良反应监测",
    "药品生产质量管理规范",
    "上市许可持有人",
    "审评审批",
    "优先审评",
    "附条件批准",
    "新型冠状病毒",
    "疫苗",
    "中药",
    "生物制品",
    "化学药品",
    "飞行检查",
    "监督抽检",
    "行政许可",
    "质量标准",
    "说明书",
    "技术指导原则",
    "电子申报",
    "网络销售",
    "数据保护",
    "专利链接",
    "研发投入",
    "科技成果转化",
];

/// Which of [`ZH_TERMS`] belong to intellectual property (CNIPA's
/// notices); the others are about medicines and devices (CDE, NMPA).
const ZH_IP_TERMS: &[usize] = &[0, 1, 2, 3, 4, 5, 6, 7, 36, 37, 38, 39];

/// How terms are spread over the notices; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Every sentence draws from the whole vocabulary and seed text.
    #[default]
    Synthetic,
    /// Each notice keeps to its topic terms and one passage of the seed text.
    Realistic,
}

/// Consecutive seed sentences a realistic notice quotes from.
const PASSAGE_SENTENCES: usize = 12;

/// Issuing bodies of Chinese notices, per source.
const ZH_AGENCIES: &[(&str, &[&str])] = &[
    ("CNIPA", &["国家知识产权局", "国家知识产权局办公室", "国家知识产权局商标局", "国家知识产权局专利局"]),
    ("CDE", &["国家药品监督管理局药品审评中心", "药品审评中心"]),
    ("NMPA", &["国家药品监督管理局", "国家药监局综合司", "国家药品监督管理局医疗器械技术审评中心"]),
];

const ZH_ACTIONS: &[&str] =
    &["关于印发", "关于发布", "关于公开征求", "关于开展", "关于进一步加强", "关于做好", "关于调整", "关于实施"];
const ZH_KINDS: &[&str] = &["的通知", "的公告", "的通告", "意见的通知", "工作方案", "管理办法（试行）", "实施细则"];

/// English sentence templates; `{}` is replaced by a term.
const EN_TEMPLATES: &[&str] = &[
    "This guidance describes the agency's current thinking on {} for sponsors and applicants.",
    "Manufacturers should establish written procedures for {} and keep records of every deviation.",
    "The draft guidance on {} is being distributed for comment purposes only.",
    "FDA is issuing this guidance to provide recommendations on {} during the COVID-19 public health emergency.",
    "Inspectors observed that the firm failed to validate {} as required by 21 CFR 211.100.",
    "The revised Annex 1 clarifies expectations for {} in the manufacture of sterile medicinal products.",
    "Comments on {} should be submitted to docket FDA-2020-D-1106 within 60 days.",
    "A risk-based approach to {} is expected, supported by data integrity controls.",
    "The ECA Academy will hold a live online training on {} for quality assurance staff.",
    "Applicants may request a pre-IND meeting to discuss {} before submitting an application.",
    "Nonclinical studies of {} should follow good laboratory practice regulations.",
    "The warning letter cites inadequate investigation of out-of-specification results for {}.",
];

/// Regulatory terms of the English text.
pub const EN_TERMS: &[&str] = &[
    "process validation",
    "cleaning validation",
    "data integrity",
    "sterile drug products",
    "biosimilar products",
    "clinical trials",
    "computerized systems",
    "contamination control",
    "stability testing",
    "nitrosamine impurities",
    "drug shortages",
    "real-world evidence",
    "bioequivalence studies",
    "pharmacovigilance",
    "container closure integrity",
    "continuous manufacturing",
    "good manufacturing practice",
    "supplier qualification",
    "annual product review",
    "remote regulatory assessments",
];

const EN_TITLES: &[&str] = &[
    "Guidance for Industry: {}",
    "Draft Guidance: Questions and Answers on {}",
    "GMP News: New Requirements for {}",
    "Warning Letter Highlights Deficiencies in {}",
    "Final Guidance on {} Published",
];

/// A stream of synthetic notices; see the module documentation.
#[derive(Debug, Clone)]
pub struct Corpus {
    rng: Rng,
    sentences: Vec<String>,
    next: u64,
    profile: Profile,
    /// Realistic profile: the current notice's topic terms.
    topics: Vec<&'static str>,
    /// Realistic profile: first seed sentence of the current notice's passage.
    passage: usize,
}

impl Corpus {
    /// A corpus from `seed`, taking Chinese sentences from `seed_text`
    /// (split at `。；！？` and line ends; fragments under eight characters
    /// are dropped). With no usable sentence, templates alone are used.
    pub fn new(seed: u64, seed_text: &str) -> Corpus {
        let sentences = seed_text
            .split(['。', '；', '！', '？', '\n'])
            .map(|s| s.trim())
            .filter(|s| s.chars().count() >= 8 && s.chars().any(crate::analyzer::is_han))
            .map(|s| format!("{s}。"))
            .collect();
        Corpus { rng: Rng::new(seed), sentences, next: 0, profile: Profile::Synthetic, topics: Vec::new(), passage: 0 }
    }

    /// A corpus of the given profile (the same seed gives different
    /// notices in each profile).
    pub fn with_profile(seed: u64, seed_text: &str, profile: Profile) -> Corpus {
        Corpus { profile, ..Corpus::new(seed, seed_text) }
    }

    /// Picks the topic terms and the passage of the next realistic notice.
    fn choose_topic(&mut self, lang: Lang, ip: bool) {
        self.topics.clear();
        let n = 1 + self.rng.below(2);
        for _ in 0..n {
            let term = match lang {
                Lang::En => self.rng.pick(EN_TERMS),
                _ => {
                    let drug_terms = ZH_TERMS.len() - ZH_IP_TERMS.len();
                    let i = if ip {
                        ZH_IP_TERMS[self.rng.below(ZH_IP_TERMS.len() as u64) as usize]
                    } else {
                        // The k-th term that is not an IP term.
                        let k = self.rng.below(drug_terms as u64) as usize;
                        (0..ZH_TERMS.len()).filter(|i| !ZH_IP_TERMS.contains(i)).nth(k).unwrap_or(0)
                    };
                    ZH_TERMS[i]
                }
            };
            if !self.topics.contains(&term) {
                self.topics.push(term);
            }
        }
        let passages = self.sentences.len().saturating_sub(PASSAGE_SENTENCES) + 1;
        self.passage = self.rng.below(passages as u64) as usize;
    }

    /// A term for a template: any term, or in the realistic profile one of
    /// the notice's topics.
    fn term(&mut self, all: &[&'static str]) -> &'static str {
        match self.profile {
            Profile::Synthetic => self.rng.pick(all),
            Profile::Realistic => {
                let topics = std::mem::take(&mut self.topics);
                let t = if topics.is_empty() { self.rng.pick(all) } else { self.rng.pick(&topics) };
                self.topics = topics;
                t
            }
        }
    }

    /// Number of notices produced so far.
    pub fn produced(&self) -> u64 {
        self.next
    }

    fn body_len(&mut self) -> usize {
        // Log-uniform: median about 4.5 KB, mean about 6.3 KB.
        let u = self.rng.unit();
        (BODY_MIN * (BODY_MAX / BODY_MIN).powf(u)) as usize
    }

    fn date(&mut self) -> Option<NaiveDate> {
        if self.rng.below(100) < 3 {
            return None;
        }
        let start = NaiveDate::from_ymd_opt(2010, 1, 1).expect("valid date");
        // 15 years, 2010-01-01 ..= 2024-12-31.
        let days = self.rng.below(5479);
        start.checked_add_days(chrono::Days::new(days))
    }

    fn zh_sentence(&mut self, out: &mut String) {
        let r = self.rng.below(10);
        if r < 6 && !self.sentences.is_empty() {
            let i = match self.profile {
                Profile::Synthetic => self.rng.below(self.sentences.len() as u64) as usize,
                Profile::Realistic => {
                    let len = PASSAGE_SENTENCES.min(self.sentences.len());
                    self.passage + self.rng.below(len as u64) as usize
                }
            };
            out.push_str(&self.sentences[i]);
            return;
        }
        let a = self.term(ZH_TERMS);
        let b = self.term(ZH_TERMS);
        let n = self.rng.below(90) + 10;
        match r {
            6 => out.push_str(&format!("各单位要加强{a}工作，切实做好{b}相关管理，确保{n}项重点任务按期完成。")),
            7 => out.push_str(&format!("申请人应当按照{a}的要求提交{b}资料，审查时限为{n}个工作日。")),
            8 => out.push_str(&format!("截至目前，全国共受理{a}申请{n}万件，同比增长{}%，{b}质量稳步提升。", n % 30)),
            _ => out.push_str(&format!("对违反{a}规定的，依法严肃查处，并将{b}情况向社会公开。")),
        }
    }

    fn en_sentence(&mut self, out: &mut String) {
        let t = self.rng.pick(EN_TEMPLATES);
        let term = self.term(EN_TERMS);
        out.push_str(&t.replace("{}", term));
    }

    fn body(&mut self, lang: Lang) -> String {
        let target = self.body_len();
        let mut body = String::with_capacity(target + 256);
        while body.len() < target {
            let sentences = self.rng.below(5) + 2;
            for _ in 0..sentences {
                match lang {
                    Lang::Zh => self.zh_sentence(&mut body),
                    Lang::En => {
                        self.en_sentence(&mut body);
                        body.push(' ');
                    }
                }
            }
            body.push('\n');
        }
        body
    }

    /// The next notice. Never ends; use `take(n)`.
    pub fn next_notice(&mut self) -> Notice {
        let i = self.next;
        self.next += 1;
        let english = self.rng.below(100) < ENGLISH_PERCENT;
        let published = self.date();
        let year = published.map_or(2020, |d| chrono::Datelike::year(&d));
        let n = self.rng.below(200) + 1;
        let (source, host, title, agency, doc_numbers, lang) = if english {
            let (source, host, agency) = if self.rng.below(2) == 0 {
                (Source::Fda, "www.fda.gov", "U.S. Food and Drug Administration")
            } else {
                (Source::Eca, "www.gmp-compliance.org", "ECA Academy")
            };
            if self.profile == Profile::Realistic {
                self.choose_topic(Lang::En, false);
            }
            let title = self.rng.pick(EN_TITLES).replace("{}", &title_case(self.term(EN_TERMS)));
            let numbers = if source == Source::Fda {
                vec![format!("FDA-{year}-D-{:04}", self.rng.below(10_000))]
            } else {
                vec![]
            };
            (source, host, title, agency, numbers, Lang::En)
        } else {
            let (label, agencies) = ZH_AGENCIES[self.rng.below(ZH_AGENCIES.len() as u64) as usize];
            let (source, host, number) = match label {
                "CNIPA" => (Source::Cnipa, "www.cnipa.gov.cn", format!("国知发保字〔{year}〕{n}号")),
                "CDE" => (Source::Cde, "www.cde.org.cn", format!("药审中心〔{year}〕{n}号")),
                _ => (Source::Nmpa, "www.nmpa.gov.cn", format!("{year}年第{n}号")),
            };
            let agency = self.rng.pick(agencies);
            if self.profile == Profile::Realistic {
                self.choose_topic(Lang::Zh, label == "CNIPA");
            }
            let action = self.rng.pick(ZH_ACTIONS);
            let term = self.term(ZH_TERMS);
            let title = format!("{agency}{action}{term}{}（{number}）", self.rng.pick(ZH_KINDS));
            (source, host, title, agency, vec![number], Lang::Zh)
        };
        let body = self.body(lang);
        let url = format!("https://{host}/synth/{i}.html");
        Notice {
            published,
            doc_numbers,
            agency: Some(agency.to_string()),
            lang,
            // Fixed, so indexing is deterministic (the writer would use now).
            first_seen: Some(chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("valid timestamp")),
            ..Notice::crawled(source, &url, title, body)
        }
    }
}

impl Iterator for Corpus {
    type Item = Notice;
    fn next(&mut self) -> Option<Notice> {
        Some(self.next_notice())
    }
}

fn title_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text of a given language taken from the corpus, about `bytes` long
/// (titles and bodies of consecutive notices of that language).
pub fn text(seed: u64, seed_text: &str, lang: Lang, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 32 * 1024);
    for n in Corpus::new(seed, seed_text).filter(|n| n.lang == lang) {
        out.push_str(&n.title);
        out.push('\n');
        out.push_str(&n.body);
        if out.len() >= bytes {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_TEXT: &str = "国务院知识产权战略实施工作部际联席会议办公室关于印发推进计划的通知。\n\
        为加快推进仿制药一致性评价工作，现将有关事项公告如下；";

    #[test]
    fn deterministic_and_well_formed() {
        let a: Vec<Notice> = Corpus::new(1, SEED_TEXT).take(200).collect();
        let b: Vec<Notice> = Corpus::new(1, SEED_TEXT).take(200).collect();
        assert_eq!(a, b);
        assert_ne!(a, Corpus::new(2, SEED_TEXT).take(200).collect::<Vec<_>>());
        let en = a.iter().filter(|n| n.lang == Lang::En).count();
        assert!((20..=70).contains(&en), "{en} English of 200");
        for n in &a {
            n.validate().unwrap();
            assert!((1024..=21 * 1024).contains(&n.body.len()), "{}", n.body.len());
        }
        for s in Source::KNOWN {
            assert!(a.iter().any(|n| n.source == s), "{s} missing");
        }
        let ids: std::collections::HashSet<_> = a.iter().map(|n| &n.id).collect();
        assert_eq!(ids.len(), a.len());
    }

    /// Share of notices whose title or body contains `word`.
    fn share(notices: &[Notice], word: &str) -> f64 {
        notices.iter().filter(|n| n.title.contains(word) || n.body.contains(word)).count() as f64 / notices.len() as f64
    }

    #[test]
    fn realistic_terms_are_rare_and_only_broad_words_common() {
        let digest = include_str!("../../crawler/data/digest-2020-05-15.txt");
        let notices: Vec<Notice> = Corpus::with_profile(DEFAULT_SEED, digest, Profile::Realistic).take(3000).collect();
        let mut shares: Vec<f64> = ZH_TERMS.iter().chain(EN_TERMS).map(|t| share(&notices, t)).collect();
        shares.sort_by(f64::total_cmp);
        let median = shares[shares.len() / 2];
        assert!((0.001..=0.05).contains(&median), "median term share {median}");
        // A handful of terms also occur in the seed text's passages, the
        // rest only where they are a notice's topic.
        let common = ZH_TERMS.iter().chain(EN_TERMS).filter(|t| share(&notices, t) > 0.3).count();
        assert!(common <= 3, "{common} terms in more than 30 % of the notices");
        for broad in ["通知", "药品"] {
            assert!(share(&notices, broad) > 0.3, "{broad}: {}", share(&notices, broad));
        }
        let english: Vec<Notice> = notices.iter().filter(|n| n.lang == Lang::En).cloned().collect();
        assert!(share(&english, "guidance") > 0.3, "guidance: {}", share(&english, "guidance"));
        // The synthetic profile is the stress test: its terms are everywhere.
        let synthetic: Vec<Notice> = Corpus::new(DEFAULT_SEED, digest).take(500).collect();
        assert!(share(&synthetic, "一致性评价") > 0.5);
    }

    #[test]
    fn text_has_the_language_asked() {
        let zh = text(3, SEED_TEXT, Lang::Zh, 10_000);
        assert!(zh.len() >= 10_000 && Lang::detect(&zh) == Lang::Zh);
        let en = text(3, SEED_TEXT, Lang::En, 10_000);
        assert!(en.len() >= 10_000 && Lang::detect(&en) == Lang::En);
    }
}
