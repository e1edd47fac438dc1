//! The engine: kinds, templates and fonts loaded once and shared by every
//! form; it checks forms (`form::checked`) and lays them out (`render`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use minijinja::Environment;
use serde_json::Value as Json;

use crate::files::read as input;
use crate::form::checked::{self, Form};
use crate::form::fingerprint;
use crate::form::kind::Catalog;
use crate::form::{rules, schema, yaml, zh_keys};
use crate::layout::fonts::{FontOptions, Fonts};
use crate::layout::render::Error;
use crate::layout::template;

/// Where kinds and fonts come from.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Extra template folders (`--templates`); later ones override earlier ones.
    pub template_dirs: Vec<PathBuf>,
    /// Extra font folders (`--font-path`).
    pub font_dirs: Vec<PathBuf>,
    /// Skip installed fonts (only bundled and `--font-path` fonts are used).
    pub no_system_fonts: bool,
    /// Folders besides the form's own that pictures (`seal:`) may come from (`--allow-path`).
    pub allow_paths: Vec<PathBuf>,
}

/// Kinds, templates and fonts, loaded once and shared by every form.
pub struct Engine {
    pub(crate) catalog: Catalog,
    /// `allow_paths`, canonicalised.
    allowed: Vec<PathBuf>,
    pub(crate) env: Environment<'static>,
    pub(crate) fonts: Fonts,
}

impl Engine {
    pub fn new(options: &EngineOptions) -> Result<Engine, Error> {
        let catalog = Catalog::load(&options.template_dirs).map_err(|e| Error::Catalog(e.0))?;
        let wanted: BTreeSet<String> =
            catalog.kinds().flat_map(|k| k.manifest.fonts.values().flatten().cloned()).collect();
        let fonts =
            Fonts::load(&FontOptions { dirs: options.font_dirs.clone(), system: !options.no_system_fonts, wanted });
        let mut catalog = catalog;
        let env = template::environment(catalog.sources());
        // A kind whose rules do not compile is left out and reported; the others still load.
        let broken: Vec<(String, String)> =
            catalog.kinds().filter_map(|k| rules::validate(&env, k).err().map(|e| (k.id.clone(), e))).collect();
        for (id, e) in broken {
            catalog.drop_kind(&id, e);
        }
        let allowed = options.allow_paths.iter().filter_map(|p| std::fs::canonicalize(p).ok()).collect();
        Ok(Engine { catalog, allowed, env, fonts })
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn fonts(&self) -> &Fonts {
        &self.fonts
    }

    /// Reads and checks a form file's bytes. Never fails: what is wrong is in
    /// the findings.
    pub fn check(&self, name: &str, bytes: &[u8]) -> Form {
        self.check_in(name, bytes, None)
    }

    /// Reads and checks a form file; image paths in it are relative to its
    /// folder and must stay inside it (or an `allow_paths` folder).
    /// `-` is standard input; its pictures are read from the current folder.
    pub fn check_file(&self, path: &Path) -> Result<Form, input::InputError> {
        if input::is_stdin(path) {
            let bytes = input::read_stdin(yaml::MAX_FILE_BYTES as u64)?;
            return Ok(self.check_at("-", &bytes, Path::new(".")));
        }
        let bytes = input::read(path, yaml::MAX_FILE_BYTES as u64)?;
        let parent = path.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p });
        Ok(self.check_at(&path.display().to_string(), &bytes, parent.unwrap_or(Path::new("."))))
    }

    /// Checks form bytes that live (or will live) in `folder`: pictures are
    /// read from there, as for a file of that folder.
    pub fn check_at(&self, name: &str, bytes: &[u8], folder: &Path) -> Form {
        let base = std::fs::canonicalize(folder).ok();
        let pictures = base.map(|base| schema::Pictures { base, allowed: &self.allowed });
        self.check_in(name, bytes, pictures.as_ref())
    }

    /// The form's data as typed, before computed values fill its blanks (what
    /// an exported spreadsheet carries).
    pub fn typed_data(&self, form: &Form) -> Option<Json> {
        let kind = self.catalog.kind(form.kind.as_deref()?)?;
        let (source, mut root) = yaml::parse(&form.bytes).ok()?;
        zh_keys::canonical(kind, &mut root);
        let covers = |c: char| self.fonts.covers(c);
        Some(schema::check(kind, &source, &root, &covers, None).data)
    }

    /// The fingerprint of a checked form (what the printed 校验码 stands for),
    /// with the kind's version as installed now.
    pub fn fingerprint(&self, form: &Form) -> Option<fingerprint::Fingerprint> {
        let kind = self.catalog.kind(form.kind.as_deref()?)?;
        self.fingerprint_as(form, &kind.manifest.version)
    }

    /// The fingerprint as another version of the form's kind would have
    /// printed it (`verify` of a PDF whose Creator names that version).
    pub fn fingerprint_as(&self, form: &Form, version: &str) -> Option<fingerprint::Fingerprint> {
        Some(fingerprint::Fingerprint::of(&fingerprint::Shape {
            kind: form.kind.as_deref()?,
            version,
            data: &form.data,
            options: &form.options,
            assets: &form.assets,
        }))
    }

    fn check_in(&self, name: &str, bytes: &[u8], base: Option<&schema::Pictures>) -> Form {
        checked::check(&self.catalog, &self.env, &|c| self.fonts.covers(c), name, bytes, base)
    }
}
