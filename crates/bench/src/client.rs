//! A minimal HTTP/1.1 keep-alive client: one request at a time on one connection, requests
//! written from prepared bytes, responses read by `Content-Length` or chunked encoding. It
//! does no more work per request than the load needs, so the driver stays cheap next to the
//! servers it measures.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Res;

/// One request, serialised once and sent many times.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub bytes: Vec<u8>,
}

impl Prepared {
    /// `method target` with a bearer token and an optional JSON body.
    pub fn new(method: &str, target: &str, host: &str, token: &str, body: Option<&[u8]>) -> Self {
        let mut s = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
        if !token.is_empty() {
            s.push_str("Authorization: Bearer ");
            s.push_str(token);
            s.push_str("\r\n");
        }
        let mut bytes = match body {
            Some(b) => {
                s.push_str("Content-Type: application/json\r\nContent-Length: ");
                s.push_str(&b.len().to_string());
                s.push_str("\r\n\r\n");
                let mut v = s.into_bytes();
                v.extend_from_slice(b);
                v
            }
            None => {
                s.push_str("\r\n");
                s.into_bytes()
            }
        };
        bytes.shrink_to_fit();
        Prepared { bytes }
    }
}

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Res<serde_json::Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Bytes of `buf` already received but not yet consumed.
    filled: usize,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> Res<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: vec![0; 64 * 1024],
            filled: 0,
        })
    }

    async fn fill(&mut self) -> Res<()> {
        if self.filled == self.buf.len() {
            let grow = self.buf.len();
            self.buf.resize(grow * 2, 0);
        }
        let n = self.stream.read(&mut self.buf[self.filled..]).await?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        self.filled += n;
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    /// Sends `req` and reads the whole response. `keep_body` false discards the body bytes
    /// (the load loop only needs the status).
    pub async fn send(&mut self, req: &Prepared, keep_body: bool) -> Res<Response> {
        self.stream.write_all(&req.bytes).await?;
        let head_end = loop {
            if let Some(i) = find(&self.buf[..self.filled], b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])?.to_owned();
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("malformed status line")?;
        self.consume(head_end);
        let mut body = Vec::new();
        if let Some(len) = header_value(&head, "content-length") {
            let mut remaining: usize = len.parse()?;
            loop {
                let take = remaining.min(self.filled);
                if keep_body {
                    body.extend_from_slice(&self.buf[..take]);
                }
                self.consume(take);
                remaining -= take;
                if remaining == 0 {
                    break;
                }
                self.fill().await?;
            }
        } else if header_value(&head, "transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf[..self.filled], b"\r\n") {
                        break i;
                    }
                    self.fill().await?;
                };
                let size_text = std::str::from_utf8(&self.buf[..line_end])?;
                let size =
                    usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
                self.consume(line_end + 2);
                while self.filled < size + 2 {
                    self.fill().await?;
                }
                if keep_body {
                    body.extend_from_slice(&self.buf[..size]);
                }
                self.consume(size + 2);
                if size == 0 {
                    break;
                }
            }
        } else if !(status == 204 || status == 304 || (100..200).contains(&status)) {
            return Err(format!("response without a length: {head}").into());
        }
        Ok(Response { status, body })
    }
}
