//! The handles the control plane's background work runs with.
//!
//! [`Ctx`] is what jobs, the supervisor and the replication agents share: the store, the
//! on-disk layout, the configuration, the engine's tools, the OS user servers run as, the
//! replication samples and the shutdown flag. It holds no job or server of its own, so the
//! modules below [`crate::service`] depend on it and never on the service (control's modules
//! form a tree: `service -> {jobs, supervisor} -> volume -> ctx`).

use std::sync::atomic::{AtomicBool, Ordering};

use ferry_engine::{OsUser, Toolbox};

use crate::error::ControlError;
use crate::identity::Containment;

use crate::auth::Authorizer;
use crate::config::Config;
use crate::events::{ClusterEvent, Events, InstanceEvent};
use crate::layout::Layout;
use crate::model::{ClusterId, InstanceId};
use crate::samples::Samples;
use crate::store::Store;

pub(crate) struct Ctx {
    pub(crate) layout: Layout,
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) toolbox: Toolbox,
    /// Who each cluster's servers run as and what confines them.
    pub(crate) containment: Containment,
    /// The latest replication sample of each replicating cluster.
    pub(crate) samples: Samples,
    /// IAM policy evaluation (with its cache of parsed documents).
    pub(crate) authz: Authorizer,
    /// The per-table progress of each running import, as last reported (memory only).
    pub(crate) import_tables: std::sync::Mutex<
        std::collections::HashMap<crate::model::ImportId, Vec<crate::model::TableProgress>>,
    >,
    shutting_down: AtomicBool,
}

impl Ctx {
    pub(crate) fn new(
        layout: Layout,
        config: Config,
        store: Store,
        toolbox: Toolbox,
        containment: Containment,
    ) -> Ctx {
        Ctx {
            authz: Authorizer::new(&config),
            layout,
            config,
            store,
            toolbox,
            containment,
            samples: Samples::default(),
            import_tables: Default::default(),
            shutting_down: AtomicBool::new(false),
        }
    }

    /// The OS user `cluster`'s servers run as (`None`: the user ferry runs as).
    pub(crate) fn server_user(&self, cluster: &ClusterId) -> Result<Option<OsUser>, ControlError> {
        self.containment.server_user(&self.layout, cluster)
    }

    pub(crate) fn events(&self) -> Events<'_> {
        Events(&self.store)
    }

    pub(crate) fn cluster_event(&self, id: &ClusterId, event: ClusterEvent<'_>) {
        self.events().cluster(id, event);
    }

    pub(crate) fn instance_event(&self, id: &InstanceId, event: InstanceEvent<'_>) {
        self.events().instance(id, event);
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }
}
