//! What the fault proxy does to which request: rules, their schedules, and the counters that
//! decide whether a rule fires.
//!
//! A plan is an ordered list of rules. Each rule says which requests it applies to (method and
//! a substring of the request target), what to do (answer with an error status, reset or
//! truncate the connection part-way through the body, stall the body) and when (the first N
//! requests it sees, every Mth, or always). Rules are tried in order; the first one that fires
//! decides, and rules after it do not see that request.

use std::time::Duration;

/// The ordered rules the proxy applies. The default plan injects nothing.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    rules: Vec<FaultRule>,
}

impl FaultPlan {
    /// A plan that forwards everything untouched.
    pub fn none() -> Self {
        Self::default()
    }

    /// A plan made of one rule.
    pub fn single(rule: FaultRule) -> Self {
        Self { rules: vec![rule] }
    }

    /// Adds `rule` after the existing ones.
    #[must_use]
    pub fn with(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// The rules, in the order they are tried; [`crate::FaultEvent::rule`] indexes this.
    pub fn rules(&self) -> &[FaultRule] {
        &self.rules
    }
}

/// One fault and the requests it applies to.
///
/// Built with [`FaultRule::status`], [`FaultRule::reset_after`], [`FaultRule::truncate_after`]
/// or [`FaultRule::stall`], then narrowed. By default a rule applies to `GET` requests only, to
/// any target, and fires on the first matching request only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// What to do.
    pub fault: Fault,
    /// Only requests with this method (`None`: any method). Default `GET`.
    pub method: Option<String>,
    /// Only requests whose target (path and query, as sent) contains this. Default: any.
    pub path_contains: Option<String>,
    /// Which of the matching requests get the fault. Default: the first one.
    pub schedule: Schedule,
}

/// A fault the proxy can inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer without contacting the upstream: this status and an S3-style XML error body
    /// (`<Error><Code>..</Code><Message>..</Message>..</Error>`).
    Status {
        /// HTTP status, e.g. 500 or 503.
        status: u16,
        /// S3 error code in the body, e.g. `InternalError`, `SlowDown`.
        code: String,
    },
    /// Forward the response head and `after_bytes` bytes of its body, then reset the TCP
    /// connection (RST). The client has seen `200`/`206` and part of the body.
    Reset {
        /// Body bytes forwarded before the reset.
        after_bytes: u64,
    },
    /// Forward the response head and `after_bytes` bytes of its body, then close the
    /// connection normally (FIN): the client sees a body shorter than `Content-Length`.
    Truncate {
        /// Body bytes forwarded before the close.
        after_bytes: u64,
    },
    /// Forward the response head and `after_bytes` bytes of its body, then send nothing for
    /// `pause`, then forward the rest. Long pauses trigger client read timeouts.
    Stall {
        /// Body bytes forwarded before the pause.
        after_bytes: u64,
        /// How long the body is paused.
        pause: Duration,
    },
}

impl Fault {
    /// Whether the fault is decided when the request arrives (`Status`) or when the upstream's
    /// response head is known (the body faults).
    pub(super) fn is_body_fault(&self) -> bool {
        match self {
            Fault::Status { .. } => false,
            Fault::Reset { .. } | Fault::Truncate { .. } | Fault::Stall { .. } => true,
        }
    }

    /// Body bytes that must exist beyond which the fault acts.
    fn after_bytes(&self) -> u64 {
        match self {
            Fault::Status { .. } => 0,
            Fault::Reset { after_bytes }
            | Fault::Truncate { after_bytes }
            | Fault::Stall { after_bytes, .. } => *after_bytes,
        }
    }
}

/// Which of the requests matching a rule get its fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// The first N matching requests (0: never).
    FirstN(u64),
    /// The Mth, 2Mth, 3Mth, ... matching request (0: never).
    EveryNth(u64),
    /// Every matching request.
    Always,
}

impl Schedule {
    /// Whether the `seen`-th matching request (counting from 1) gets the fault.
    fn fires(self, seen: u64) -> bool {
        match self {
            Schedule::FirstN(n) => seen <= n,
            Schedule::EveryNth(0) => false,
            Schedule::EveryNth(m) => seen.is_multiple_of(m),
            Schedule::Always => true,
        }
    }
}

impl FaultRule {
    fn new(fault: Fault) -> Self {
        Self {
            fault,
            method: Some("GET".to_owned()),
            path_contains: None,
            schedule: Schedule::FirstN(1),
        }
    }

    /// Answer with `status` and an S3 XML error: code `InternalError` for 500, `SlowDown` for
    /// 503, `ServiceUnavailable` for other 5xx, `InvalidRequest` otherwise.
    pub fn status(status: u16) -> Self {
        let code = match status {
            500 => "InternalError",
            503 => "SlowDown",
            501 | 502 | 504..=599 => "ServiceUnavailable",
            _ => "InvalidRequest",
        };
        Self::new(Fault::Status {
            status,
            code: code.to_owned(),
        })
    }

    /// Reset the connection after `after_bytes` body bytes of a response whose body is longer.
    pub fn reset_after(after_bytes: u64) -> Self {
        Self::new(Fault::Reset { after_bytes })
    }

    /// Close the connection after `after_bytes` body bytes of a response whose body is longer.
    pub fn truncate_after(after_bytes: u64) -> Self {
        Self::new(Fault::Truncate { after_bytes })
    }

    /// Pause the body for `pause` right after the response head.
    pub fn stall(pause: Duration) -> Self {
        Self::new(Fault::Stall {
            after_bytes: 0,
            pause,
        })
    }

    /// Pause the body for `pause` after `after_bytes` body bytes.
    pub fn stall_after(after_bytes: u64, pause: Duration) -> Self {
        Self::new(Fault::Stall { after_bytes, pause })
    }

    /// Apply to the first `n` matching requests.
    #[must_use]
    pub fn first(mut self, n: u64) -> Self {
        self.schedule = Schedule::FirstN(n);
        self
    }

    /// Apply to every `m`th matching request.
    #[must_use]
    pub fn every(mut self, m: u64) -> Self {
        self.schedule = Schedule::EveryNth(m);
        self
    }

    /// Apply to every matching request.
    #[must_use]
    pub fn always(mut self) -> Self {
        self.schedule = Schedule::Always;
        self
    }

    /// Only requests whose target contains `needle` (e.g. an object key).
    #[must_use]
    pub fn path_contains(mut self, needle: impl Into<String>) -> Self {
        self.path_contains = Some(needle.into());
        self
    }

    /// Only requests with `method` (e.g. `PUT`) instead of `GET`.
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Requests with any method.
    #[must_use]
    pub fn any_method(mut self) -> Self {
        self.method = None;
        self
    }

    fn matches(&self, method: &str, target: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|needle| target.contains(needle))
    }
}

/// A plan and how many requests each of its rules has seen.
#[derive(Debug)]
pub(super) struct PlanState {
    plan: FaultPlan,
    seen: Vec<u64>,
}

impl PlanState {
    pub(super) fn new(plan: FaultPlan) -> Self {
        let seen = vec![0; plan.rules.len()];
        Self { plan, seen }
    }

    /// When a request arrives: the status rule that fires for it, if any.
    pub(super) fn on_request(&mut self, method: &str, target: &str) -> Option<(usize, Fault)> {
        self.decide(method, target, |fault| !fault.is_body_fault())
    }

    /// When the upstream's response head arrives: the body rule that fires, if any. Only
    /// successful responses whose body is longer than the rule's `after_bytes` count (a body
    /// of unknown length counts); `body_len` is `Some(0)` for responses without a body.
    pub(super) fn on_response(
        &mut self,
        method: &str,
        target: &str,
        status: u16,
        body_len: Option<u64>,
    ) -> Option<(usize, Fault)> {
        if !(200..300).contains(&status) {
            return None;
        }
        self.decide(method, target, |fault| {
            fault.is_body_fault() && body_len.is_none_or(|len| len > fault.after_bytes())
        })
    }

    fn decide(
        &mut self,
        method: &str,
        target: &str,
        applies: impl Fn(&Fault) -> bool,
    ) -> Option<(usize, Fault)> {
        for (index, (rule, seen)) in self.plan.rules.iter().zip(self.seen.iter_mut()).enumerate() {
            if !applies(&rule.fault) || !rule.matches(method, target) {
                continue;
            }
            *seen += 1;
            if rule.schedule.fires(*seen) {
                return Some((index, rule.fault.clone()));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_n_fires_on_the_first_n_matching_requests_only() {
        let plan = FaultPlan::single(FaultRule::status(503).first(2).path_contains("part01"));
        let mut state = PlanState::new(plan);
        assert!(state.on_request("GET", "/b/set/part00").is_none());
        assert!(
            state.on_request("PUT", "/b/set/part01").is_none(),
            "GET only by default"
        );
        assert!(state.on_request("GET", "/b/set/part01").is_some());
        assert!(state.on_request("GET", "/b/set/part01?x").is_some());
        assert!(state.on_request("GET", "/b/set/part01").is_none());
    }

    #[test]
    fn every_nth_fires_periodically() {
        let mut state = PlanState::new(FaultPlan::single(FaultRule::status(500).every(3)));
        let fired: Vec<bool> = (0..7)
            .map(|_| state.on_request("GET", "/").is_some())
            .collect();
        assert_eq!(fired, [false, false, true, false, false, true, false]);
        let mut never = PlanState::new(FaultPlan::single(FaultRule::status(500).every(0)));
        assert!((0..5).all(|_| never.on_request("GET", "/").is_none()));
    }

    #[test]
    fn body_faults_count_only_responses_with_enough_body() {
        let plan = FaultPlan::single(FaultRule::reset_after(100).first(1));
        let mut state = PlanState::new(plan);
        assert!(
            state.on_request("GET", "/b/k").is_none(),
            "decided at response time"
        );
        assert!(state.on_response("GET", "/b/k", 404, Some(300)).is_none());
        assert!(state.on_response("GET", "/b/k", 200, Some(100)).is_none());
        assert!(state.on_response("GET", "/b/k", 206, Some(0)).is_none());
        assert_eq!(
            state.on_response("GET", "/b/k", 206, Some(101)),
            Some((0, Fault::Reset { after_bytes: 100 }))
        );
        assert!(
            state.on_response("GET", "/b/k", 200, None).is_none(),
            "first 1 is used up"
        );
    }

    #[test]
    fn first_firing_rule_wins_and_later_rules_do_not_count_it() {
        let plan = FaultPlan::none()
            .with(FaultRule::status(503).first(1))
            .with(FaultRule::status(500).first(1));
        let mut state = PlanState::new(plan);
        let codes: Vec<Option<usize>> = (0..3)
            .map(|_| state.on_request("GET", "/").map(|(i, _)| i))
            .collect();
        assert_eq!(codes, [Some(0), Some(1), None]);
    }
}
