//! The 骑缝章 (`--seal-across`, `options: {seal_across: …}`): page i of N
//! shows slice i of N of the seal on its right edge, inside the margin. The
//! test seal is a red staircase (the band of rows k in column band k), so
//! each slice shows where it came from: the pages are rasterised with
//! pdftoppm and the red in each page's right edge must be the next band down.

mod common;

use std::path::Path;
use std::process::Command;

/// 200×200 transparent PNG, red where row band == column band (4 bands of 50 px).
fn staircase(path: &Path) {
    let mut data = vec![0u8; 200 * 200 * 4];
    for y in 0..200 {
        for x in 0..200 {
            if y / 50 == x / 50 {
                data[(y * 200 + x) * 4..][..4].copy_from_slice(&[220, 20, 20, 255]);
            }
        }
    }
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(file, 200, 200);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header().unwrap().write_image_data(&data).unwrap();
}

/// `formpress render FORM -o PDF --seal-across SEAL`.
fn render_sealed(form: &Path, pdf: &Path, seal: &Path) -> (Option<i32>, String) {
    let (form, pdf, seal) = (form.to_str().unwrap(), pdf.to_str().unwrap(), seal.to_str().unwrap());
    formpress(&["render", form, "-o", pdf, "--seal-across", seal, "--no-system-fonts"])
}

fn formpress(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_formpress")).args(args).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn red(page: &(usize, usize, Vec<u8>), x: usize, y: usize) -> bool {
    let p = &page.2[(y * page.0 + x) * 3..][..3];
    p[0] > 150 && p[1] < 110 && p[2] < 110
}

/// Rows with red pixels in columns `from..to`.
fn red_rows(page: &(usize, usize, Vec<u8>), from: usize, to: usize) -> Vec<usize> {
    (0..page.1).filter(|&y| (from..to).any(|x| red(page, x, y))).collect()
}

const MM: f64 = 72.0 / 25.4;

/// The seed (4 pages, right margin 18 mm): seal 40 mm wide, slices of 10 mm.
fn check_slices(pdf: &Path) {
    let pages = common::raster(pdf, 72);
    assert_eq!(pages.len(), 4);
    let slice = 40.0 * MM / 4.0;
    let margin = 18.0 * MM;
    let mut centres = vec![];
    for (i, page) in pages.iter().enumerate() {
        let w = page.0;
        let rows = red_rows(page, w - slice as usize + 2, w - 1);
        assert!(!rows.is_empty(), "page {}: no seal slice at the right edge", i + 1);
        // A slice is one band of the staircase: at most a quarter of the seal high.
        let (top, bottom) = (rows[0], *rows.last().unwrap());
        assert!(((bottom - top) as f64) < slice + 3.0, "page {}: rows {top}..{bottom}", i + 1);
        centres.push((top + bottom) as f64 / 2.0);
        // Nothing of it between the slice and the page body: the form is not covered.
        let inner = red_rows(page, (w as f64 - margin) as usize, (w as f64 - slice) as usize - 2);
        assert!(inner.is_empty(), "page {}: red left of the slice at rows {:?}", i + 1, &inner[..inner.len().min(5)]);
    }
    // Slice i is band i: each page's red lies one band lower than the page before,
    // and the four bands stack into the seal's height, centred on the page.
    for pair in centres.windows(2) {
        let step = pair[1] - pair[0];
        assert!((step - slice).abs() < 2.0, "bands not adjacent: {centres:?}");
    }
    let middle = (centres[0] + centres[3]) / 2.0;
    assert!((middle - pages[0].1 as f64 / 2.0).abs() < 3.0, "{centres:?}");
}

#[test]
fn the_seal_is_cut_into_one_slice_per_page_along_the_right_edges() {
    let dir = tempfile::tempdir().unwrap();
    let seal = dir.path().join("stairs.png");
    staircase(&seal);
    let form = dir.path().join("form.yaml");
    std::fs::write(&form, common::clean_seed()).unwrap();
    let pdf = dir.path().join("cli.pdf");
    let (code, out) = render_sealed(&form, &pdf, &seal);
    assert_eq!(code, Some(0), "{out}");
    check_slices(&pdf);

    // The same from the form's options; the picture is then form data, attached to an archive.
    let with_option = common::clean_seed() + "\noptions:\n  seal_across: stairs.png\n";
    std::fs::write(&form, with_option).unwrap();
    let archive = dir.path().join("option.pdf");
    let (code, out) = formpress(&[
        "render",
        form.to_str().unwrap(),
        "-o",
        archive.to_str().unwrap(),
        "--archive",
        "--no-system-fonts",
    ]);
    assert_eq!(code, Some(0), "{out}");
    check_slices(&archive);
    let (code, out) = formpress(&["verify", archive.to_str().unwrap(), "--no-system-fonts"]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn one_page_forms_and_drafts_get_no_seal_across() {
    let dir = tempfile::tempdir().unwrap();
    let seal = dir.path().join("stairs.png");
    staircase(&seal);
    for (form, pages, expected) in [("forms/project-2021.yaml", 1, 0), ("forms/zhengzhou-2020-dept-overall.yaml", 4, 1)]
    {
        let pdf = dir.path().join("out.pdf");
        let src = common::root().join(form);
        let (code, out) = render_sealed(&src, &pdf, &seal);
        // The seed as it is has an error: a draft (exit 1).
        assert_eq!(code, Some(expected), "{out}");
        let raster = common::raster(&pdf, 72);
        assert_eq!(raster.len(), pages);
        for page in &raster {
            assert!(red_rows(page, page.0 - 20, page.0 - 1).is_empty(), "{form}: a seal slice was printed");
        }
    }
    // A picture that is not one is refused with a message, and nothing is written.
    let bad = dir.path().join("bad.png");
    std::fs::write(&bad, b"not a picture").unwrap();
    let out_pdf = dir.path().join("bad.pdf");
    let form = common::root().join("forms/project-2021.yaml");
    let (code, out) = render_sealed(&form, &out_pdf, &bad);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("--seal-across"), "{out}");
    assert!(!out_pdf.exists());
}
