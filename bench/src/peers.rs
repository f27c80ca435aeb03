//! The same route on other stacks, run by the bench like Quire's functions
//! (same Runtime API, same CPU shares, same engine behind the same proxy):
//! `GET /posts/{postId}` on Node.js with the AWS SDK v3's document client,
//! and on Python with boto3 (bench/peers/). Not part of the product.

use std::path::{Path, PathBuf};
use tokio::process::Command;

/// Peer name → the function whose sample it is given.
pub const PEERS: &[(&str, &str)] = &[("node-get-post", "get-post"), ("python-get-post", "get-post")];

fn dir(root: &Path, language: &str) -> PathBuf {
    root.join("bench/peers").join(language)
}

fn venv(target: &Path) -> PathBuf {
    target.join("bench-peers/python-venv")
}

/// Installs what the peers need, once: the Node packages of
/// bench/peers/node/package-lock.json (`npm ci`) and a virtual environment
/// with bench/peers/python/requirements.txt. Both registries are reachable
/// here; the bench runs without the peers when this fails.
pub fn prepare(root: &Path, target: &Path) -> Result<(), String> {
    let run = |command: &mut std::process::Command| -> Result<(), String> {
        let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
        status.success().then_some(()).ok_or_else(|| format!("{command:?} failed: {status}"))
    };
    let node = dir(root, "node");
    if !node.join("node_modules").exists() {
        run(std::process::Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--silent"]).current_dir(&node))?;
    }
    let venv = venv(target);
    if !venv.join("bin/python").exists() {
        run(std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(std::process::Command::new(venv.join("bin/pip")).args(["install", "--quiet", "-r"]).arg(dir(root, "python").join("requirements.txt")))?;
    }
    Ok(())
}

/// The command that starts peer `name`, if it is one.
pub fn command(name: &str, root: &Path, target: &Path) -> Option<Command> {
    let (program, dir, script) = match name {
        "node-get-post" => (PathBuf::from("/usr/bin/node"), dir(root, "node"), "bootstrap.mjs"),
        "python-get-post" => (venv(target).join("bin/python"), dir(root, "python"), "bootstrap.py"),
        _ => return None,
    };
    let mut command = Command::new(program);
    command.arg(dir.join(script)).current_dir(dir);
    Some(command)
}

/// The variables that make a peer trust the bench's throwaway CA (Quire's
/// functions take `QUIRE_EXTRA_CA_FILE`).
pub fn ca_variables(ca: &Path) -> Vec<(String, String)> {
    let ca = ca.display().to_string();
    vec![("NODE_EXTRA_CA_CERTS".into(), ca.clone()), ("AWS_CA_BUNDLE".into(), ca)]
}
