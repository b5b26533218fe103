//! Which container engine answers, and a job's container in the shape that engine honours.
//!
//! Podman and Docker both speak the Docker Engine API, but they do not take GPUs the same
//! way through it: Podman's compatibility layer ignores CDI `DeviceRequests` before 5.5
//! (Debian 12 ships 4.3, Ubuntu 24.04 4.9), so a GPU job's container would start without
//! `/dev/nvidia*`. So a container is described once ([`Plan`]) and created through Podman's
//! own libpod API (CDI device names, honoured since Podman 4.1) or through Docker's API (the
//! NVIDIA runtime's GPU request, what `docker run --gpus` sends). Everything after creation
//! (start, wait, inspect, logs, remove) is the same API on both.

use super::RuntimeError;
use bollard::models::{
    ContainerCreateBody, DeviceRequest, HostConfig, HostConfigLogConfig, Mount, MountType,
};
use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, Request};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::{collections::HashMap, path::PathBuf, time::Duration};

/// The CDI kind of NVIDIA's GPUs as `nvidia-ctk cdi generate` names them; each GPU is also
/// a device named by its UUID (`nvidia.com/gpu=GPU-…`).
pub const NVIDIA_CDI_KIND: &str = "nvidia.com/gpu";

/// The oldest Podman whose libpod API applies CDI device names.
const PODMAN_CDI_SINCE: (u32, u32) = (4, 1);

/// The engine behind the socket, from its version answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Podman { major: u32, minor: u32 },
    Docker,
}

impl Engine {
    /// From the `/version` answer: Podman names a component "Podman Engine".
    pub fn from_version(version: &bollard::models::SystemVersion) -> Engine {
        let podman = version
            .components
            .iter()
            .flatten()
            .find(|c| c.name == "Podman Engine");
        match podman {
            Some(c) => {
                let mut parts = c.version.split(['.', '-']).map(|p| p.parse().unwrap_or(0));
                Engine::Podman {
                    major: parts.next().unwrap_or(0),
                    minor: parts.next().unwrap_or(0),
                }
            }
            None => Engine::Docker,
        }
    }

    /// Ok when this engine can give a container the GPUs it is assigned; otherwise what to
    /// change.
    pub fn can_pass_gpus(&self) -> Result<(), String> {
        match *self {
            Engine::Podman { major, minor } if (major, minor) < PODMAN_CDI_SINCE => Err(format!(
                "Podman {major}.{minor} cannot pass GPUs to containers by CDI name: upgrade to \
                 Podman {}.{} or later, or use Docker with the NVIDIA Container Toolkit",
                PODMAN_CDI_SINCE.0, PODMAN_CDI_SINCE.1
            )),
            _ => Ok(()),
        }
    }
}

/// A bind mount of a host directory.
#[derive(Debug, Clone)]
pub struct Bind {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

/// One job's container, whichever engine creates it.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    /// The local image id (`sha256:…`).
    pub image: String,
    pub entrypoint: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub labels: HashMap<String, String>,
    pub binds: Vec<Bind>,
    /// Size of the `/tmp` tmpfs.
    pub tmp_bytes: i64,
    pub shm_bytes: i64,
    /// Memory cap, swap included (no swap).
    pub memory_bytes: i64,
    pub pids_limit: i64,
    /// CPU time the job may use per second, in thousandths of a core; `None`: no cap.
    pub cpu_millis: Option<u64>,
    pub network: bool,
    /// UUIDs of the GPUs to pass.
    pub gpus: Vec<String>,
    /// The CDI kind whose devices are the GPUs ([`NVIDIA_CDI_KIND`]).
    pub cdi_kind: String,
    /// `uid:gid` the job runs as (`None`: the image's own user).
    pub user: Option<String>,
    /// Most bytes of log the engine keeps on disk for the container (it keeps the latest).
    pub log_bytes: i64,
}

impl Plan {
    /// The CDI device names of the plan's GPUs.
    pub fn cdi_devices(&self) -> Vec<String> {
        self.gpus
            .iter()
            .map(|uuid| format!("{}={uuid}", self.cdi_kind))
            .collect()
    }

    /// The engine's refusal `message` as the GPU it names, if it names one: Podman resolves
    /// CDI names on create ("stat nvidia.com/gpu=GPU-…: no such file or directory") or, once
    /// it has CDI specs, on start ("unresolvable CDI devices nvidia.com/gpu=GPU-…").
    pub fn gpu_refused(&self, message: &str) -> Option<RuntimeError> {
        let device = self
            .cdi_devices()
            .into_iter()
            .find(|d| message.contains(d.as_str()))?;
        Some(RuntimeError::GpuDevice {
            device,
            reason: message.to_string(),
        })
    }

    /// The request body of Podman's `POST /libpod/containers/create` (a SpecGenerator).
    pub fn libpod_body(&self) -> Value {
        let mut mounts: Vec<Value> = self
            .binds
            .iter()
            .map(|b| {
                // "Z": a private SELinux label where SELinux is on (Podman ignores it
                // elsewhere), so the job can read its inputs and write its outputs.
                let mode = if b.read_only { "ro" } else { "rw" };
                json!({
                    "destination": b.target,
                    "type": "bind",
                    "source": b.source.to_string_lossy(),
                    "options": ["rbind", mode, "Z"],
                })
            })
            .collect();
        mounts.push(json!({
            "destination": "/tmp",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["rw", "nosuid", "nodev", format!("size={}", self.tmp_bytes)],
        }));
        let mut body = json!({
            "name": self.name,
            "image": self.image,
            "entrypoint": [self.entrypoint],
            "command": self.args,
            "env": self.env.iter().cloned().collect::<HashMap<_, _>>(),
            "labels": self.labels,
            "mounts": mounts,
            "cap_drop": ["ALL"],
            "read_only_filesystem": true,
            "no_new_privileges": true,
            "init": true,
            "shm_size": self.shm_bytes,
            "resource_limits": {
                "memory": {"limit": self.memory_bytes, "swap": self.memory_bytes},
                "pids": {"limit": self.pids_limit},
            },
            "devices": self.cdi_devices().into_iter().map(|d| json!({"path": d})).collect::<Vec<_>>(),
            "remove": false,
            "log_configuration": {"driver": "k8s-file", "size": self.log_bytes},
        });
        if let Some(user) = &self.user {
            body["user"] = json!(user);
        }
        if !self.network {
            body["netns"] = json!({"nsmode": "none"});
        }
        if let Some(millis) = self.cpu_millis {
            // A CFS quota per 100 ms period (the OCI runtime spec's `cpu`), at least 1 ms.
            body["resource_limits"]["cpu"] = json!({
                "quota": (millis.saturating_mul(100).max(1000)).min(i64::MAX as u64),
                "period": 100_000,
            });
        }
        body
    }

    /// The request body of Docker's `POST /containers/create`; GPUs as the NVIDIA runtime's
    /// request for exactly these UUIDs.
    pub fn docker_body(&self) -> ContainerCreateBody {
        let mounts = self
            .binds
            .iter()
            .map(|b| Mount {
                target: Some(b.target.clone()),
                source: Some(b.source.to_string_lossy().into_owned()),
                typ: Some(MountType::BIND),
                read_only: Some(b.read_only),
                ..Default::default()
            })
            .collect();
        let gpus = (!self.gpus.is_empty()).then(|| {
            vec![DeviceRequest {
                driver: Some("nvidia".into()),
                device_ids: Some(self.gpus.clone()),
                capabilities: Some(vec![vec!["gpu".into()]]),
                ..Default::default()
            }]
        });
        ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: Some(vec![self.entrypoint.clone()]),
            cmd: Some(self.args.clone()),
            env: Some(self.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(self.labels.clone()),
            user: self.user.clone(),
            network_disabled: Some(!self.network),
            attach_stdout: Some(false),
            attach_stderr: Some(false),
            tty: Some(false),
            host_config: Some(HostConfig {
                mounts: Some(mounts),
                cap_drop: Some(vec!["ALL".into()]),
                readonly_rootfs: Some(true),
                tmpfs: Some(HashMap::from([(
                    "/tmp".to_string(),
                    format!("rw,nosuid,nodev,size={}", self.tmp_bytes),
                )])),
                shm_size: Some(self.shm_bytes),
                init: Some(true),
                memory: Some(self.memory_bytes),
                memory_swap: Some(self.memory_bytes),
                pids_limit: Some(self.pids_limit),
                nano_cpus: self
                    .cpu_millis
                    .map(|m| m.saturating_mul(1_000_000).min(i64::MAX as u64) as i64),
                network_mode: (!self.network).then(|| "none".to_string()),
                security_opt: Some(vec!["no-new-privileges".into()]),
                device_requests: gpus,
                log_config: Some(HostConfigLogConfig {
                    typ: Some("json-file".into()),
                    config: Some(HashMap::from([
                        ("max-size".to_string(), self.log_bytes.to_string()),
                        ("max-file".to_string(), "1".to_string()),
                    ])),
                }),
                auto_remove: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// Creates `plan`'s container through Podman's libpod API at `socket`; its id.
pub async fn libpod_create(
    socket: &str,
    plan: &Plan,
    timeout: Duration,
) -> Result<String, RuntimeError> {
    let failed = |reason: String| RuntimeError::Engine {
        op: "create container (libpod)".into(),
        reason,
    };
    let body = serde_json::to_vec(&plan.libpod_body()).map_err(|e| failed(e.to_string()))?;
    let (status, answer) = tokio::time::timeout(
        timeout,
        post_json(socket, "/v4.0.0/libpod/containers/create", body),
    )
    .await
    .map_err(|_| failed(format!("no answer in {}s", timeout.as_secs())))?
    .map_err(failed)?;
    let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
    if status == 201 || status == 200 {
        return answer["Id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| failed(format!("the answer names no container id: {answer}")));
    }
    let message = answer["message"].as_str().unwrap_or("").to_string();
    Err(plan
        .gpu_refused(&message)
        .unwrap_or_else(|| failed(format!("HTTP {status}: {message}"))))
}

/// One `POST` of a JSON body on a fresh connection; the status and the body of the answer.
async fn post_json(socket: &str, path: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), String> {
    let request = |host: &str| {
        Request::post(path)
            .header("Host", host)
            .header("Content-Type", "application/json")
            .body(Full::new(Bytes::from(body.clone())))
            .map_err(|e| e.to_string())
    };
    if let Some(addr) = socket
        .strip_prefix("tcp://")
        .or_else(|| socket.strip_prefix("http://"))
    {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        send(stream, request(addr)?).await
    } else {
        let path = socket.strip_prefix("unix://").unwrap_or(socket);
        let stream = tokio::net::UnixStream::connect(path)
            .await
            .map_err(|e| format!("connect {path}: {e}"))?;
        send(stream, request("d")?).await
    }
}

async fn send<S>(stream: S, request: Request<Full<Bytes>>) -> Result<(u16, Vec<u8>), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let conn = tokio::spawn(conn);
    let answer = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string());
    let result = match answer {
        Ok(answer) => {
            let status = answer.status().as_u16();
            answer
                .into_body()
                .collect()
                .await
                .map(|b| (status, b.to_bytes().to_vec()))
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e),
    };
    conn.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(gpus: &[&str]) -> Plan {
        Plan {
            name: "cinder-job-1-0".into(),
            image: "sha256:abc".into(),
            entrypoint: "sh".into(),
            args: vec!["-c".into(), "true".into()],
            env: vec![("CINDER_JOB".into(), "job".into())],
            labels: HashMap::from([("io.cinder.job".into(), "job".into())]),
            binds: vec![Bind {
                source: "/data/in".into(),
                target: "/cinder/in".into(),
                read_only: true,
            }],
            tmp_bytes: 1 << 30,
            shm_bytes: 1 << 30,
            memory_bytes: 32 << 30,
            pids_limit: 4096,
            cpu_millis: Some(1_500),
            network: false,
            gpus: gpus.iter().map(|s| s.to_string()).collect(),
            cdi_kind: NVIDIA_CDI_KIND.into(),
            user: Some("65534:65534".into()),
            log_bytes: 16 << 20,
        }
    }

    fn version(components: &[(&str, &str)]) -> bollard::models::SystemVersion {
        bollard::models::SystemVersion {
            components: Some(
                components
                    .iter()
                    .map(|(name, version)| bollard::models::SystemVersionComponents {
                        name: name.to_string(),
                        version: version.to_string(),
                        details: None,
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn podman_is_told_from_docker_by_its_version_answer() {
        let podman = Engine::from_version(&version(&[("Podman Engine", "4.3.1")]));
        assert_eq!(podman, Engine::Podman { major: 4, minor: 3 });
        let docker = Engine::from_version(&version(&[("Engine", "27.3.1"), ("containerd", "1.7")]));
        assert_eq!(docker, Engine::Docker);
        let dev = Engine::from_version(&version(&[("Podman Engine", "5.5.0-dev")]));
        assert_eq!(dev, Engine::Podman { major: 5, minor: 5 });
    }

    #[test]
    fn only_a_podman_without_cdi_names_is_refused_for_gpus() {
        for ok in [
            Engine::Podman { major: 4, minor: 1 },
            Engine::Podman { major: 4, minor: 3 },
            Engine::Podman { major: 5, minor: 0 },
            Engine::Docker,
        ] {
            assert!(ok.can_pass_gpus().is_ok(), "{ok:?}");
        }
        let old = Engine::Podman { major: 4, minor: 0 }
            .can_pass_gpus()
            .unwrap_err();
        assert!(old.contains("upgrade to Podman 4.1"), "{old}");
        assert!(Engine::Podman { major: 3, minor: 4 }
            .can_pass_gpus()
            .is_err());
    }

    #[test]
    fn podman_gets_each_gpu_as_a_cdi_device_name() {
        let body = plan(&["GPU-aa", "GPU-bb"]).libpod_body();
        assert_eq!(
            body["devices"],
            json!([{"path": "nvidia.com/gpu=GPU-aa"}, {"path": "nvidia.com/gpu=GPU-bb"}])
        );
        assert_eq!(plan(&[]).libpod_body()["devices"], json!([]));
    }

    #[test]
    fn podman_gets_the_hardened_container() {
        let body = plan(&[]).libpod_body();
        assert_eq!(body["cap_drop"], json!(["ALL"]));
        assert_eq!(body["read_only_filesystem"], true);
        assert_eq!(body["no_new_privileges"], true);
        assert_eq!(body["init"], true);
        assert_eq!(body["netns"], json!({"nsmode": "none"}));
        assert_eq!(body["resource_limits"]["memory"]["limit"], 32i64 << 30);
        assert_eq!(body["resource_limits"]["memory"]["swap"], 32i64 << 30);
        assert_eq!(body["resource_limits"]["pids"]["limit"], 4096);
        assert_eq!(
            body["resource_limits"]["cpu"],
            json!({"quota": 150_000, "period": 100_000}),
            "1.5 cores"
        );
        let uncapped = Plan {
            cpu_millis: None,
            ..plan(&[])
        };
        assert!(uncapped.libpod_body()["resource_limits"]
            .get("cpu")
            .is_none());
        assert_eq!(
            body["mounts"][0],
            json!({"destination": "/cinder/in", "type": "bind", "source": "/data/in",
                   "options": ["rbind", "ro", "Z"]})
        );
        assert_eq!(body["mounts"][1]["destination"], "/tmp");
        assert_eq!(body["env"]["CINDER_JOB"], "job");
        assert_eq!(body["user"], "65534:65534");
        assert_eq!(
            body["log_configuration"],
            json!({"driver": "k8s-file", "size": 16 << 20})
        );
        let open = Plan {
            network: true,
            ..plan(&[])
        };
        assert!(open.libpod_body().get("netns").is_none());
    }

    #[test]
    fn docker_gets_the_nvidia_runtime_request_for_exactly_the_assigned_uuids() {
        let body = plan(&["GPU-aa", "GPU-bb"]).docker_body();
        let host = body.host_config.unwrap();
        let reqs = host.device_requests.unwrap();
        assert_eq!(reqs.len(), 1);
        let json = serde_json::to_value(&reqs[0]).unwrap();
        assert_eq!(json["Driver"], "nvidia");
        assert_eq!(json["DeviceIDs"], json!(["GPU-aa", "GPU-bb"]));
        assert_eq!(json["Capabilities"], json!([["gpu"]]));
        assert!(plan(&[])
            .docker_body()
            .host_config
            .unwrap()
            .device_requests
            .is_none());
        assert_eq!(host.readonly_rootfs, Some(true));
        assert_eq!(body.user.as_deref(), Some("65534:65534"));
        let log = serde_json::to_value(host.log_config.unwrap()).unwrap();
        assert_eq!(log["Config"]["max-size"], (16 << 20).to_string());
        assert_eq!(host.cap_drop, Some(vec!["ALL".to_string()]));
        assert_eq!(host.nano_cpus, Some(1_500_000_000), "1.5 cores");
    }
}
