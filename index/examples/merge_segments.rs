//! Merges every segment of an index into one, in place: to compare a
//! search over one segment with the same notices over several
//! (BENCHMARKS.md §15). Work on a copy of a data directory.
//!
//! ```sh
//! cp -r D /tmp/merged && IX=/tmp/merged/index cargo run --release -p notices-index --example merge_segments
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::var("IX").map_err(|_| "set IX to an index directory")?;
    let index = tantivy::Index::open_in_dir(dir)?;
    index::analyzer::register(index.tokenizers());
    let ids = index.searchable_segment_ids()?;
    let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(1, 200_000_000)?;
    writer.merge(&ids).wait()?;
    writer.wait_merging_threads()?;
    println!("merged {} segments into one", ids.len());
    Ok(())
}
