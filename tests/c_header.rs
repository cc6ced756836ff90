//! The committed C header is the ABI's contract: it must be exactly what cbindgen generates from `src/ffi`.
//!
//! A change to the exported functions, types or their documentation that is not reflected in `include/cimd.h`
//! fails here. Regenerate with `make header` (which runs this test with `CIMD_UPDATE_HEADER=1`) and commit
//! the header with the change.

use std::path::Path;

#[test]
fn committed_header_is_what_cbindgen_generates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = root.join("include/cimd.h");
    if std::env::var_os("CIMD_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/cimd.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/cimd.h differs from what cbindgen generates from src/ffi: run `make header` and commit it"
    );
}
