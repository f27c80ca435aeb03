//! The local stack keeps its data (and its cursor signing key) in the data
//! folder across restarts, and `cargo run -p local` starts and stops cleanly.

use crate::common::folder_options;
use aws_sdk_dynamodb::types::AttributeValue;
use local::LocalStack;
use shared::keys::Key;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("quire-{name}-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn data_and_cursor_key_survive_a_restart() {
    let dir = temp_dir("restart");
    let key = Key { pk: "KEEP#1".into(), sk: "X".into() };

    let stack = LocalStack::start(folder_options(&dir, true)).await.unwrap();
    let mut item = key.to_attributes();
    item.insert("n".into(), AttributeValue::N("42".into()));
    stack.table().client().put_item().table_name("quire").set_item(Some(item)).send().await.unwrap();
    let listing_key = key.to_attributes();
    let cursor = stack.table().cursors().sign("keep", &listing_key).unwrap();
    stack.shutdown().await;

    let stack = LocalStack::start(folder_options(&dir, true)).await.unwrap();
    let got = stack.table().client().get_item().table_name("quire").set_key(Some(key.to_attributes())).send().await.unwrap();
    assert_eq!(got.item.unwrap()["n"], AttributeValue::N("42".into()));
    assert_eq!(stack.table().cursors().verify("keep", &cursor).unwrap(), listing_key, "same signing key after restart");
    stack.shutdown().await;

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("cursor-signing-key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the signing key is readable by its owner only");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The README's first command, as a user runs it: the real binary serves the
/// template's routes, and SIGINT (Ctrl-C) stops it cleanly with exit code 0.
#[tokio::test]
async fn the_local_command_serves_and_stops_cleanly_on_ctrl_c() {
    let dir = temp_dir("cli");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_local"))
        .args(["--port", &port.to_string(), "--data-dir", dir.to_str().unwrap()])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let url = format!("http://127.0.0.1:{port}/health");
    let started = Instant::now();
    let reply = loop {
        if let Ok(reply) = reqwest::get(&url).await {
            break reply;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the stack did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reply.status(), 200);
    assert!(dir.join("quire.db").exists());

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    let log = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit: {:?}\n{log}", output.status);
    assert!(log.contains("GET /health -> health"), "routes are listed at start:\n{log}");
    assert!(log.contains(r#"route="GET /health""#) && log.contains("status=200"), "one line per request:\n{log}");
    assert!(log.contains("stopped cleanly"), "{log}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_template_route_without_a_handler_stops_the_command_with_a_clear_message() {
    let dir = temp_dir("orphan");
    let template = std::fs::read_to_string(local::template::default_path()).unwrap();
    let orphan = format!(
        "{template}\n  OrphanFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: orphan\n      Events:\n        Orphan:\n          Type: HttpApi\n          Properties: {{Method: GET, Path: /orphan}}\n"
    )
    // Insert the resource inside Resources, before Outputs.
    .replacen("\nOutputs:", "\n__OUTPUTS__", 1);
    let (head, tail) = orphan.split_once("\n__OUTPUTS__").unwrap();
    let (outputs, resource) = tail.split_once("\n  OrphanFunction:").unwrap();
    let text = format!("{head}\n  OrphanFunction:{resource}\nOutputs:{outputs}");
    let path = dir.join("template.yaml");
    std::fs::write(&path, text).unwrap();

    let output =
        Command::new(env!("CARGO_BIN_EXE_local")).args(["--in-memory", "--port", "0", "--template", path.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("GET /orphan") && stderr.contains("OrphanFunction") && stderr.contains("\"orphan\""), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}
