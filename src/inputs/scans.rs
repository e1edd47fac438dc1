//! Reading scanned pages as scanners write them: a PDF with one picture per
//! page, or JPEG, PNG and (multi-page) TIFF files. Each page gives the
//! picture to archive (a JPEG exactly as scanned, anything else as a
//! lossless PNG), its grey image for the QR decoder, and its size on paper
//! when the file says it.
//!
//! Everything is bounded before it is decoded: the file's size, the number of
//! pages, and each picture's width, height and pixels (a decompression bomb is
//! refused from its header).

use std::io::Cursor;
use std::path::Path;

use hayro_interpret::hayro_syntax::Pdf;
use hayro_interpret::hayro_syntax::object::{Name, Object};
use hayro_interpret::{BlendMode, ClipPath, Device, GlyphDrawMode, Image, ImageData, Paint, PathDrawMode, SoftMask};
use image::{DynamicImage, GrayImage, ImageFormat};
use kurbo::{Affine, BezPath};

use crate::archival::{inspect, qr_read};
use crate::files::guard;
use crate::files::read::{self as input, InputError};

/// Largest scan file read (a PDF, or one picture).
pub const MAX_FILE_BYTES: u64 = inspect::MAX_PDF_BYTES;
/// Longest side of a scanned picture: A3 at 600 dpi is 9 921 pixels.
pub const MAX_SIDE: u32 = 10_000;
/// Most pixels in one scanned picture: A3 at 600 dpi (70 million).
pub const MAX_PIXELS: u64 = 72_000_000;
/// Most pages in one run, over all files.
pub const MAX_PAGES: usize = 500;
/// Most bytes of pictures kept for the archive, over all pages.
pub const MAX_KEPT_BYTES: usize = 1 << 30;
/// Most pixels decoded from one scan file: 57 A4 pages at 600 dpi, 900 at 150 dpi.
pub const MAX_FILE_PIXELS: u64 = 2_000_000_000;
/// Most CPU time reading one scan file may take.
pub const MAX_FILE_TIME: std::time::Duration = std::time::Duration::from_secs(60);

/// Where a scanned page came from: the file, and the page within it for a
/// PDF or multi-page TIFF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: String,
    pub page: Option<usize>,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let file = crate::form::findings::escape_controls(&self.file);
        match self.page {
            Some(p) => write!(f, "{file} 第 {p} 页"),
            None => write!(f, "{file}"),
        }
    }
}

/// The picture of a page as it goes into the archive.
#[derive(Debug, Clone)]
pub enum Stored {
    /// The scanner's JPEG, byte for byte (never re-encoded).
    Jpeg(Vec<u8>),
    /// Any other picture, losslessly.
    Png(Vec<u8>),
}

impl Stored {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Stored::Jpeg(b) | Stored::Png(b) => b,
        }
    }

    pub fn extension(&self) -> &'static str {
        match self {
            Stored::Jpeg(_) => "jpg",
            Stored::Png(_) => "png",
        }
    }
}

/// One scanned page, read.
pub struct Picture {
    pub stored: Stored,
    pub width: u32,
    pub height: u32,
    /// Its size on paper in points, when the file says it (a PDF's page, a
    /// picture's resolution).
    pub size: Option<(f64, f64)>,
    pub grey: GrayImage,
    /// The page's inks at about 100–200 dpi, for comparing it with the form.
    pub inks: Inks,
}

/// A scanned page's inks, each pixel the mean of a `factor` × `factor`
/// block of the scan: black ink (the lightest channel, so a red seal or a
/// blue signature over printed text does not count as print), any ink (the
/// darkest channel: a pen of any colour) and red (a seal's colour).
pub struct Inks {
    pub factor: u32,
    pub light: GrayImage,
    pub dark: GrayImage,
    pub red: GrayImage,
    /// The scan has colour (else red cannot be told from grey).
    pub colour: bool,
    /// The scan is black and white only (a bilevel scan): its thresholding
    /// makes specks of 1–2 mm² where a grey scan has none.
    pub bilevel: bool,
}

/// The picture is shrunk by a whole factor to about 100–200 dpi (an A4
/// page's longest side over this many pixels per step).
const INK_SIDE: u32 = 1169;

/// The inks of a decoded picture.
pub fn inks(image: &DynamicImage) -> Inks {
    let factor = (image.width().max(image.height()) / INK_SIDE).max(1);
    let (w, h) = (image.width().div_ceil(factor), image.height().div_ceil(factor));
    let mut light = GrayImage::new(w, h);
    let mut dark = GrayImage::new(w, h);
    let mut red = GrayImage::new(w, h);
    let mut colour = false;
    let mut bilevel = true;
    let rgb;
    let (samples, channels): (&[u8], usize) = match image {
        DynamicImage::ImageLuma8(g) => (g.as_raw(), 1),
        DynamicImage::ImageRgb8(c) => (c.as_raw(), 3),
        other => {
            rgb = other.to_rgb8();
            (rgb.as_raw(), 3)
        }
    };
    let width = image.width() as usize;
    for by in 0..h {
        for bx in 0..w {
            let (mut l, mut d, mut r, mut n) = (0u32, 0u32, 0u32, 0u32);
            for y in by * factor..((by + 1) * factor).min(image.height()) {
                for x in bx * factor..((bx + 1) * factor).min(image.width()) {
                    let i = (y as usize * width + x as usize) * channels;
                    let px = &samples[i..i + channels];
                    let (max, min) = (px.iter().copied().max().unwrap_or(255), px.iter().copied().min().unwrap_or(255));
                    bilevel &= (max == 0 || max == 255) && max == min;
                    l += u32::from(max);
                    d += u32::from(min);
                    if channels == 3 {
                        r += u32::from(px[0].saturating_sub(px[1].max(px[2])));
                    }
                    n += 1;
                }
            }
            light.put_pixel(bx, by, image::Luma([(l / n) as u8]));
            dark.put_pixel(bx, by, image::Luma([(d / n) as u8]));
            let tint = (r / n) as u8;
            colour |= tint > 60;
            red.put_pixel(bx, by, image::Luma([tint]));
        }
    }
    Inks { factor, light, dark, red, colour, bilevel }
}

/// Why a page could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// A PDF page that holds no picture (not a scan).
    NoPicture,
    TooLarge {
        width: u32,
        height: u32,
    },
    /// The picture's data is broken or in a form not supported.
    Broken(String),
    /// The file's pixel budget is spent (pictures decoded before this one).
    OverBudget,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Unreadable::NoPicture => write!(f, "该页没有扫描图像"),
            Unreadable::TooLarge { width, height } => write!(
                f,
                "图像 {width}×{height} 像素，超过上限（边长 {MAX_SIDE} 像素、共 {} 百万像素）",
                MAX_PIXELS / 1_000_000
            ),
            Unreadable::Broken(why) => write!(f, "无法解码图像（{why}）"),
            Unreadable::OverBudget => {
                write!(f, "扫描件中已解码的图像合计超过 {} 亿像素，未再解码", MAX_FILE_PIXELS / 100_000_000)
            }
        }
    }
}

/// Why a whole scan file could not be read.
#[derive(Debug)]
pub enum ScanFileError {
    /// Missing, not a regular file, over the size limit, unreadable (exit 3).
    Read(InputError),
    /// Not a PDF, JPEG, PNG or TIFF file.
    Format(String),
    /// A PDF that cannot be opened (or is over a PDF limit).
    Pdf(String, inspect::InspectError),
    /// More pages than `MAX_PAGES` in all.
    TooManyPages,
    /// More than `MAX_KEPT_BYTES` of pictures in all.
    TooMuch,
    /// A file whose pictures are over `MAX_FILE_PIXELS` in all, counted from their headers.
    TooManyPixels(String),
    /// A file still not read after `MAX_FILE_TIME`.
    TooSlow(String),
}

impl std::fmt::Display for ScanFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            ScanFileError::Read(e) => write!(f, "{e}"),
            ScanFileError::Format(file) => {
                write!(f, "{}：不是 PDF、JPEG、PNG 或 TIFF 文件", crate::form::findings::escape_controls(file))
            }
            ScanFileError::Pdf(file, e) => write!(f, "{}：{e}", crate::form::findings::escape_controls(file)),
            ScanFileError::TooManyPages => write!(f, "扫描件超过 {MAX_PAGES} 页"),
            ScanFileError::TooMuch => write!(f, "扫描图像合计超过 {} MB", MAX_KEPT_BYTES >> 20),
            ScanFileError::TooManyPixels(file) => write!(
                f,
                "{}：图像合计超过 {} 亿像素，未读取",
                crate::form::findings::escape_controls(file),
                MAX_FILE_PIXELS / 100_000_000
            ),
            ScanFileError::TooSlow(file) => write!(
                f,
                "{}：读取用了超过 {} 秒 CPU 时间仍未完成，已停止",
                crate::form::findings::escape_controls(file),
                MAX_FILE_TIME.as_secs()
            ),
        }
    }
}

impl std::error::Error for ScanFileError {}

/// Reads every page of a scan file, in the file's order, handing each to
/// `page` as soon as it is decoded (so only one page's pixels are held);
/// `page` may stop the reading with an error. `seen` counts pages over all
/// files, for `MAX_PAGES`.
pub fn read_file(
    path: &Path,
    seen: &mut usize,
    page: &mut dyn FnMut(Source, Result<Picture, Unreadable>) -> Result<(), ScanFileError>,
) -> Result<(), ScanFileError> {
    let bytes = input::read(path, MAX_FILE_BYTES).map_err(ScanFileError::Read)?;
    read_bytes(&path.display().to_string(), bytes, seen, page)
}

/// `read_file` on bytes already read; `file` names them in messages.
pub fn read_bytes(
    file: &str,
    bytes: Vec<u8>,
    seen: &mut usize,
    page: &mut dyn FnMut(Source, Result<Picture, Unreadable>) -> Result<(), ScanFileError>,
) -> Result<(), ScanFileError> {
    let file = file.to_string();
    let count = |seen: &mut usize| {
        *seen += 1;
        if *seen > MAX_PAGES { Err(ScanFileError::TooManyPages) } else { Ok(()) }
    };
    let budget = Budget::new();
    match sniff(&bytes) {
        Some(Kind::Pdf) => {
            crate::archival::pdfcheck::check(&bytes)
                .map_err(|e| ScanFileError::Pdf(file.clone(), inspect::InspectError::Limit(e)))?;
            let pdf = Pdf::new(bytes)
                .map_err(|e| ScanFileError::Pdf(file.clone(), inspect::InspectError::Unreadable(format!("{e:?}"))))?;
            // Pages are counted before any is decoded (a PDF can list one page 2 000 times).
            if *seen + pdf.pages().len() > MAX_PAGES {
                return Err(ScanFileError::TooManyPages);
            }
            each_pdf_page(&pdf, &budget, |i, got| {
                budget.in_time(&file)?;
                count(seen)?;
                page(Source { file: file.clone(), page: Some(i + 1) }, got)
            })?;
        }
        Some(Kind::Tiff) => {
            // Frames and their pixels are counted from the headers before any is decoded.
            let (frames, pixels) = tiff_frames(&bytes);
            if *seen + frames > MAX_PAGES {
                return Err(ScanFileError::TooManyPages);
            }
            if pixels > MAX_FILE_PIXELS {
                return Err(ScanFileError::TooManyPixels(file));
            }
            tiff_pages(&bytes, &mut |i, got| {
                budget.in_time(&file)?;
                count(seen)?;
                page(Source { file: file.clone(), page: Some(i + 1) }, got)
            })?;
        }
        Some(kind) => {
            count(seen)?;
            page(Source { file, page: None }, picture(bytes, kind))?;
        }
        None => return Err(ScanFileError::Format(file)),
    }
    Ok(())
}

/// What reading one scan file may spend: pixels decoded and CPU time.
struct Budget {
    pixels: std::cell::Cell<u64>,
    deadline: guard::Deadline,
}

impl Budget {
    fn new() -> Budget {
        Budget { pixels: std::cell::Cell::new(0), deadline: guard::Deadline::after(MAX_FILE_TIME) }
    }

    /// Takes a picture's pixels from the budget before it is decoded.
    fn spend(&self, width: u32, height: u32) -> Result<(), Unreadable> {
        let after = self.pixels.get() + u64::from(width) * u64::from(height);
        if after > MAX_FILE_PIXELS || self.deadline.passed() {
            return Err(Unreadable::OverBudget);
        }
        self.pixels.set(after);
        Ok(())
    }

    fn in_time(&self, file: &str) -> Result<(), ScanFileError> {
        if self.deadline.passed() { Err(ScanFileError::TooSlow(file.to_string())) } else { Ok(()) }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pdf,
    Jpeg,
    Png,
    Tiff,
}

/// The file's kind from its first bytes (names and extensions may lie).
fn sniff(bytes: &[u8]) -> Option<Kind> {
    let head = &bytes[..bytes.len().min(1024)];
    if head.starts_with(b"\xFF\xD8\xFF") {
        Some(Kind::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        Some(Kind::Tiff)
    } else if head.windows(5).any(|w| w == b"%PDF-") {
        Some(Kind::Pdf)
    } else {
        None
    }
}

/// Whether a picture of this size may be decoded.
fn within_limits(width: u32, height: u32) -> Result<(), Unreadable> {
    let ok = width > 0 && height > 0 && width <= MAX_SIDE && height <= MAX_SIDE;
    if ok && u64::from(width) * u64::from(height) <= MAX_PIXELS {
        Ok(())
    } else {
        Err(Unreadable::TooLarge { width, height })
    }
}

fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // Four bytes a pixel at most, plus the decoder's own buffers.
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    limits
}

/// A JPEG or PNG file (or a JPEG from a PDF): kept as it is, decoded for the QR code.
fn picture(bytes: Vec<u8>, kind: Kind) -> Result<Picture, Unreadable> {
    let format = if kind == Kind::Jpeg { ImageFormat::Jpeg } else { ImageFormat::Png };
    let (width, height) = imagesize::blob_size(&bytes)
        .map(|s| (s.width as u32, s.height as u32))
        .map_err(|e| Unreadable::Broken(e.to_string()))?;
    within_limits(width, height)?;
    let decoded = guard::catch(|| {
        let mut reader = image::ImageReader::with_format(Cursor::new(&bytes), format);
        reader.limits(limits());
        reader.decode().map_err(|e| Unreadable::Broken(e.to_string()))
    })
    .map_err(Unreadable::Broken)??;
    let grey = qr_read::ink_grey(&decoded);
    let inks = inks(&decoded);
    drop(decoded);
    let dpi = if kind == Kind::Jpeg { jfif_dpi(&bytes) } else { png_dpi(&bytes) };
    let size = dpi.map(|(x, y)| (f64::from(width) / x * 72.0, f64::from(height) / y * 72.0));
    let stored = if kind == Kind::Jpeg { Stored::Jpeg(bytes) } else { Stored::Png(bytes) };
    Ok(Picture { stored, width, height, size, grey, inks })
}

/// A resolution worth believing (scanners write 75–1200 dpi; 72 or 1 often means "unknown").
fn plausible(x: f64, y: f64) -> Option<(f64, f64)> {
    let ok = |v: f64| (100.0..=2400.0).contains(&v);
    (ok(x) && ok(y)).then_some((x, y))
}

/// The resolution in a JPEG's JFIF header (APP0), in dots per inch.
fn jfif_dpi(bytes: &[u8]) -> Option<(f64, f64)> {
    let app0 = bytes.get(2..20)?;
    if app0[0..2] != [0xFF, 0xE0] || &app0[4..9] != b"JFIF\0" {
        return None;
    }
    let (x, y) = (u16::from_be_bytes([app0[12], app0[13]]), u16::from_be_bytes([app0[14], app0[15]]));
    let per_inch = match app0[11] {
        1 => 1.0,
        2 => 2.54,
        _ => return None,
    };
    plausible(f64::from(x) * per_inch, f64::from(y) * per_inch)
}

/// The resolution in a PNG's pHYs chunk, in dots per inch.
fn png_dpi(bytes: &[u8]) -> Option<(f64, f64)> {
    let reader = png::Decoder::new(Cursor::new(bytes)).read_info().ok()?;
    let dims = reader.info().pixel_dims?;
    if dims.unit != png::Unit::Meter {
        return None;
    }
    plausible(f64::from(dims.xppu) * 0.0254, f64::from(dims.yppu) * 0.0254)
}

/// Pixels decoded from another format, stored as a lossless PNG.
fn lossless(image: DynamicImage) -> Result<Picture, Unreadable> {
    let (width, height) = (image.width(), image.height());
    let grey = qr_read::ink_grey(&image);
    let inks = inks(&image);
    let mut png = Cursor::new(vec![]);
    image.write_to(&mut png, ImageFormat::Png).map_err(|e| Unreadable::Broken(e.to_string()))?;
    Ok(Picture { stored: Stored::Png(png.into_inner()), width, height, size: None, grey, inks })
}

/// How many frames a TIFF file has and their pixels in all, from the
/// frames' headers alone (nothing is decoded); a broken chain of frames ends
/// the count, and reading stops at the same place.
fn tiff_frames(bytes: &[u8]) -> (usize, u64) {
    guard::catch(|| {
        let Ok(mut decoder) = tiff::decoder::Decoder::new(Cursor::new(bytes)) else { return (1, 0) };
        let (mut frames, mut pixels) = (0usize, 0u64);
        loop {
            frames += 1;
            if let Ok((w, h)) = decoder.dimensions() {
                pixels += u64::from(w) * u64::from(h);
            }
            if frames > MAX_PAGES || !decoder.more_images() || decoder.next_image().is_err() {
                return (frames, pixels);
            }
        }
    })
    .unwrap_or((1, 0))
}

/// Every page of a TIFF file (scanners write several pages into one).
fn tiff_pages(
    bytes: &[u8],
    page: &mut dyn FnMut(usize, Result<Picture, Unreadable>) -> Result<(), ScanFileError>,
) -> Result<(), ScanFileError> {
    let mut limits = tiff::decoder::Limits::default();
    limits.decoding_buffer_size = (MAX_PIXELS * 4) as usize;
    limits.intermediate_buffer_size = 256 << 20;
    let mut decoder = match tiff::decoder::Decoder::new(Cursor::new(bytes)) {
        Ok(d) => d.with_limits(limits),
        Err(e) => return page(0, Err(Unreadable::Broken(e.to_string()))),
    };
    for i in 0.. {
        let got = guard::catch(|| tiff_page(&mut decoder)).unwrap_or_else(|e| Err(Unreadable::Broken(e)));
        page(i, got)?;
        let next = guard::catch(|| decoder.more_images() && decoder.next_image().is_ok());
        if next != Ok(true) {
            return Ok(());
        }
    }
    Ok(())
}

fn tiff_page(decoder: &mut tiff::decoder::Decoder<Cursor<&[u8]>>) -> Result<Picture, Unreadable> {
    use tiff::ColorType;
    use tiff::decoder::DecodingResult;
    use tiff::tags::Tag;
    let broken = |e: tiff::TiffError| Unreadable::Broken(e.to_string());
    let (width, height) = decoder.dimensions().map_err(broken)?;
    within_limits(width, height)?;
    let color = decoder.colortype().map_err(broken)?;
    let data = match decoder.read_image().map_err(broken)? {
        DecodingResult::U8(data) => data,
        _ => return Err(Unreadable::Broken(format!("不支持的 TIFF 颜色格式 {color:?}"))),
    };
    let unsupported = || Unreadable::Broken(format!("不支持的 TIFF 颜色格式 {color:?}"));
    let image = match color {
        // The decoder turns WhiteIsZero (fax-style) data round: 0 is black.
        ColorType::Gray(8) => {
            DynamicImage::ImageLuma8(GrayImage::from_raw(width, height, data).ok_or_else(unsupported)?)
        }
        ColorType::Gray(1) => {
            // Rows of packed bits, each row starting on a byte.
            let row = width.div_ceil(8) as usize;
            let grey = GrayImage::from_fn(width, height, |x, y| {
                let bit = data.get(y as usize * row + x as usize / 8).map_or(0, |b| (b >> (7 - x % 8)) & 1);
                image::Luma([if bit == 1 { 255 } else { 0 }])
            });
            DynamicImage::ImageLuma8(grey)
        }
        ColorType::RGB(8) => {
            DynamicImage::ImageRgb8(image::RgbImage::from_raw(width, height, data).ok_or_else(unsupported)?)
        }
        ColorType::RGBA(8) => {
            DynamicImage::ImageRgba8(image::RgbaImage::from_raw(width, height, data).ok_or_else(unsupported)?)
        }
        _ => return Err(unsupported()),
    };
    let mut picture = lossless(image)?;
    let per_inch = match decoder.get_tag_u32(Tag::ResolutionUnit).ok() {
        Some(3) => 2.54,
        _ => 1.0,
    };
    let x = decoder.get_tag_f64(Tag::XResolution).ok();
    let y = decoder.get_tag_f64(Tag::YResolution).ok();
    if let (Some(x), Some(y)) = (x, y)
        && let Some((x, y)) = plausible(x * per_inch, y * per_inch)
    {
        picture.size = Some((f64::from(width) / x * 72.0, f64::from(height) / y * 72.0));
    }
    Ok(picture)
}

/// The scanned picture of every page of a PDF (the largest picture drawn on
/// the page, at the page's size), each handed to `f` as soon as it is read;
/// pictures beyond the pixel budget are not decoded.
pub fn pdf_pages<T>(pdf: &Pdf, mut f: impl FnMut(usize, Result<Picture, Unreadable>) -> T) -> Vec<T> {
    let budget = Budget::new();
    let mut out = vec![];
    let _ = each_pdf_page(pdf, &budget, |i, got| -> Result<(), std::convert::Infallible> {
        out.push(f(i, got));
        Ok(())
    });
    out
}

fn each_pdf_page<E>(
    pdf: &Pdf,
    budget: &Budget,
    mut f: impl FnMut(usize, Result<Picture, Unreadable>) -> Result<(), E>,
) -> Result<(), E> {
    let mut i = 0;
    inspect::each_page(
        pdf,
        |_| PictureDevice { best: None, budget },
        |device, media, whole| {
            let got = match device.best.map(|(_, p)| p) {
                _ if !whole => Err(Unreadable::Broken("PDF 页面无法解读".into())),
                Some(Ok(mut picture)) => {
                    picture.size = Some((media.width(), media.height()));
                    Ok(picture)
                }
                Some(Err(e)) => Err(e),
                None => Err(Unreadable::NoPicture),
            };
            i += 1;
            f(i - 1, got)
        },
    )
}

/// A page picture of an OFD scan archive: its JPEG or PNG file.
pub fn image_picture(bytes: Vec<u8>) -> Result<Picture, Unreadable> {
    match sniff(&bytes) {
        Some(kind @ (Kind::Jpeg | Kind::Png)) => picture(bytes, kind),
        _ => Err(Unreadable::Broken("不是 JPEG 或 PNG 图像".into())),
    }
}

/// A device that keeps the largest picture drawn on a page, decoded.
struct PictureDevice<'b> {
    /// The area it covers, in square points, and the picture.
    best: Option<(f64, Result<Picture, Unreadable>)>,
    budget: &'b Budget,
}

impl<'a> Device<'a> for PictureDevice<'_> {
    fn set_soft_mask(&mut self, _: Option<SoftMask<'a>>) {}
    fn set_blend_mode(&mut self, _: BlendMode) {}
    fn draw_path(&mut self, _: &BezPath, _: Affine, _: &Paint<'a>, _: &PathDrawMode) {}
    fn push_clip_path(&mut self, _: &ClipPath) {}
    fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'a>>, _: BlendMode) {}
    fn draw_glyph(
        &mut self,
        _: &hayro_interpret::font::Glyph<'a>,
        _: Affine,
        _: Affine,
        _: &Paint<'a>,
        _: &GlyphDrawMode,
    ) {
    }
    fn draw_image(&mut self, image: Image<'a, '_>, transform: Affine) {
        let area = transform.determinant().abs();
        if self.best.as_ref().is_some_and(|(best, _)| *best >= area) {
            return;
        }
        let Image::Raster(raster) = image else { return };
        let (width, height) = (raster.width(), raster.height());
        if let Err(e) = within_limits(width, height).and_then(|()| self.budget.spend(width, height)) {
            self.best = Some((area, Err(e)));
            return;
        }
        // A scanner's JPEG is kept byte for byte.
        let stream = raster.stream();
        let filter = stream.dict().get::<Object>(b"Filter");
        let dct = |n: &Name| n.as_ref() == b"DCTDecode" || n.as_ref() == b"DCT";
        let jpeg = match filter {
            Some(Object::Name(n)) => dct(&n),
            Some(Object::Array(a)) => {
                let names: Vec<Name> = a.iter::<Name>().collect();
                names.len() == 1 && dct(&names[0])
            }
            _ => false,
        };
        if jpeg {
            self.best = Some((area, picture(stream.raw_data().to_vec(), Kind::Jpeg)));
            return;
        }
        let mut decoded = Err(Unreadable::Broken("PDF 图像无法解码".into()));
        let _ = guard::catch(|| {
            raster.with_rgba(
                |data, _alpha| {
                    let image = match data {
                        ImageData::Rgb(d) => {
                            image::RgbImage::from_raw(d.width, d.height, d.data).map(DynamicImage::ImageRgb8)
                        }
                        ImageData::Luma(d) => {
                            GrayImage::from_raw(d.width, d.height, d.data).map(DynamicImage::ImageLuma8)
                        }
                    };
                    if let Some(image) = image {
                        decoded = lossless(image);
                    }
                },
                None,
            )
        });
        self.best = Some((area, decoded));
    }
    fn pop_clip_path(&mut self) {}
    fn pop_transparency_group(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_their_bytes() {
        assert!(sniff(b"\xFF\xD8\xFF\xE0").is_some_and(|k| k == Kind::Jpeg));
        assert!(sniff(b"%PDF-1.7").is_some_and(|k| k == Kind::Pdf));
        assert!(sniff(b"II*\0").is_some_and(|k| k == Kind::Tiff));
        assert!(sniff(b"form: x").is_none());
    }

    /// A file's budget: pictures are refused once their pixels would pass
    /// it, or once its CPU time is spent, before they are decoded.
    #[test]
    fn a_spent_budget_decodes_nothing_more() {
        let fresh = Budget::new();
        assert!(fresh.spend(8000, 8000).is_ok() && fresh.in_time("f").is_ok());
        let full = Budget::new();
        full.pixels.set(MAX_FILE_PIXELS - 10);
        assert_eq!(full.spend(5, 2), Ok(()));
        assert_eq!(full.spend(1, 1), Err(Unreadable::OverBudget));
        let late =
            Budget { pixels: std::cell::Cell::new(0), deadline: guard::Deadline::after(std::time::Duration::ZERO) };
        std::hint::black_box((0..1_000_000u64).map(std::hint::black_box).sum::<u64>());
        assert_eq!(late.spend(1, 1), Err(Unreadable::OverBudget));
        assert!(matches!(late.in_time("f"), Err(ScanFileError::TooSlow(_))));
    }

    #[test]
    fn huge_pictures_are_refused_from_their_size() {
        assert!(within_limits(4961, 7016).is_ok());
        assert_eq!(within_limits(10_001, 10), Err(Unreadable::TooLarge { width: 10_001, height: 10 }));
        assert!(within_limits(9_000, 9_000).is_err());
        assert!(within_limits(0, 10).is_err());
    }
}
