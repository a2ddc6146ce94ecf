//! Build script: the embedded templates and presets are read by `include_dir!`, which does not
//! tell cargo about files added later; watching the folders makes a new template trigger a rebuild.

fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=presets");
}
