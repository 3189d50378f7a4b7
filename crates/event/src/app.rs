use crate::{Timestamp, Uid};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A record from one of Zeek's application-layer logs (rdp, ssh, smb_mapping, smb_files,
/// ntlm, kerberos, dce_rpc). Joined to its flow by `uid`, it tells who and what: the user,
/// the client's host name, the share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppRecord {
    pub ts: Timestamp,
    pub uid: Uid,
    pub orig_ip: IpAddr,
    pub orig_port: u16,
    pub resp_ip: IpAddr,
    pub resp_port: u16,
    pub kind: AppKind,
}

/// What an application-layer record says. Strings are as the sensor wrote them (attacker
/// controlled: escape before display). Fields the log left unset are `None`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "log", rename_all = "snake_case")]
pub enum AppKind {
    /// rdp.log
    Rdp {
        /// The `mstshash` cookie: usually the user name the client typed.
        cookie: Option<String>,
        result: Option<String>,
        security_protocol: Option<String>,
        client_name: Option<String>,
    },
    /// ssh.log
    Ssh {
        auth_success: Option<bool>,
        auth_attempts: Option<u64>,
        client: Option<String>,
        server: Option<String>,
    },
    /// smb_mapping.log
    SmbMapping {
        path: Option<String>,
        share_type: Option<String>,
    },
    /// smb_files.log
    SmbFiles {
        action: Option<String>,
        path: Option<String>,
        name: Option<String>,
        size: Option<u64>,
    },
    /// ntlm.log
    Ntlm {
        username: Option<String>,
        hostname: Option<String>,
        domainname: Option<String>,
        success: Option<bool>,
    },
    /// kerberos.log
    Kerberos {
        request_type: Option<String>,
        client: Option<String>,
        service: Option<String>,
        success: Option<bool>,
    },
    /// dce_rpc.log
    DceRpc {
        endpoint: Option<String>,
        operation: Option<String>,
    },
}

impl AppKind {
    /// Zeek's log name (`rdp`, `smb_mapping`, ...).
    pub fn log_name(&self) -> &'static str {
        match self {
            AppKind::Rdp { .. } => "rdp",
            AppKind::Ssh { .. } => "ssh",
            AppKind::SmbMapping { .. } => "smb_mapping",
            AppKind::SmbFiles { .. } => "smb_files",
            AppKind::Ntlm { .. } => "ntlm",
            AppKind::Kerberos { .. } => "kerberos",
            AppKind::DceRpc { .. } => "dce_rpc",
        }
    }
}

/// What the application logs said about one flow, folded: who, from which client host, to
/// which shares, doing what. Each list keeps at most [`AppContext::MAX_ITEMS`] distinct
/// values, in first-seen order, so a hostile flow with a million SMB file records cannot
/// grow memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppContext {
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub users: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub client_hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub shares: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub operations: Vec<String>,
    /// Whether an authentication on this flow succeeded (ssh, ntlm, kerberos); `None` when
    /// no log said.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_success: Option<bool>,
}

impl AppContext {
    /// Cap on each list.
    pub const MAX_ITEMS: usize = 8;
    /// Cap on each string kept, in bytes.
    pub const MAX_STRING: usize = 256;

    /// Folds one application record into the context.
    pub fn absorb(&mut self, kind: &AppKind) {
        match kind {
            AppKind::Rdp {
                cookie,
                client_name,
                ..
            } => {
                push(&mut self.users, cookie);
                push(&mut self.client_hosts, client_name);
            }
            AppKind::Ssh {
                auth_success,
                client,
                ..
            } => {
                push(&mut self.operations, client);
                self.note_auth(*auth_success);
            }
            AppKind::SmbMapping { path, .. } => push(&mut self.shares, path),
            AppKind::SmbFiles { path, name, .. } => {
                push(&mut self.shares, path);
                push(&mut self.files, name);
            }
            AppKind::Ntlm {
                username,
                hostname,
                domainname,
                success,
            } => {
                let user = match (domainname, username) {
                    (Some(d), Some(u)) => Some(format!("{d}\\{u}")),
                    (None, Some(u)) => Some(u.clone()),
                    _ => None,
                };
                push(&mut self.users, &user);
                push(&mut self.client_hosts, hostname);
                self.note_auth(*success);
            }
            AppKind::Kerberos {
                client,
                service,
                success,
                ..
            } => {
                push(&mut self.users, client);
                push(&mut self.operations, service);
                self.note_auth(*success);
            }
            AppKind::DceRpc {
                endpoint,
                operation,
            } => {
                let op = match (endpoint, operation) {
                    (Some(e), Some(o)) => Some(format!("{e}::{o}")),
                    (None, Some(o)) => Some(o.clone()),
                    (Some(e), None) => Some(e.clone()),
                    _ => None,
                };
                push(&mut self.operations, &op);
            }
        }
    }

    /// Merges another context into this one (same caps).
    pub fn merge(&mut self, other: &AppContext) {
        for (dst, src) in [
            (&mut self.users, &other.users),
            (&mut self.client_hosts, &other.client_hosts),
            (&mut self.shares, &other.shares),
            (&mut self.files, &other.files),
            (&mut self.operations, &other.operations),
        ] {
            for s in src {
                push(dst, &Some(s.clone()));
            }
        }
        self.note_auth(other.auth_success);
    }

    /// True when no log said anything.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.client_hosts.is_empty()
            && self.shares.is_empty()
            && self.files.is_empty()
            && self.operations.is_empty()
            && self.auth_success.is_none()
    }

    fn note_auth(&mut self, ok: Option<bool>) {
        // One success on the flow is what matters: the intruder got in.
        if let Some(ok) = ok {
            self.auth_success = Some(self.auth_success.unwrap_or(false) || ok);
        }
    }
}

fn push(list: &mut Vec<String>, value: &Option<String>) {
    let Some(v) = value else { return };
    if v.is_empty() || list.len() >= AppContext::MAX_ITEMS || list.iter().any(|x| x == v) {
        return;
    }
    let mut end = v.len().min(AppContext::MAX_STRING);
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    list.push(v[..end].to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_names_user_host_and_share_and_stays_bounded() {
        let mut ctx = AppContext::default();
        ctx.absorb(&AppKind::Ntlm {
            username: Some("alice".into()),
            hostname: Some("TH-WS-0042".into()),
            domainname: Some("EHI".into()),
            success: Some(true),
        });
        for i in 0..100 {
            ctx.absorb(&AppKind::SmbMapping {
                path: Some(format!("\\\\FS01\\share{i}")),
                share_type: None,
            });
        }
        assert_eq!(ctx.users, vec!["EHI\\alice".to_string()]);
        assert_eq!(ctx.client_hosts, vec!["TH-WS-0042".to_string()]);
        assert_eq!(ctx.shares.len(), AppContext::MAX_ITEMS);
        assert_eq!(ctx.auth_success, Some(true));
    }
}
