package dev.cimd.keycloak.cluster;

import org.infinispan.manager.EmbeddedCacheManager;
import org.infinispan.remoting.transport.Address;
import org.jboss.logging.Logger;
import org.keycloak.cluster.ClusterEvent;
import org.keycloak.cluster.ClusterListener;
import org.keycloak.cluster.ClusterProvider;
import org.keycloak.connections.infinispan.InfinispanConnectionProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.utils.KeycloakModelUtils;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * Cluster-wide operator requests over Keycloak's own machinery: a request goes to every other node as a
 * {@link CimdClusterEvent} through {@link ClusterProvider#notify} (task key {@link #TASK_KEY}, this site only); each
 * node carries it out on its own engines and answers with another event of the same task key, which the asking
 * node collects until every member of the cluster's current view has answered or {@link #WAIT} has passed. The
 * engines stay the only state: nothing is cached here, and a request carries no document, only what to do.
 *
 * <p>On a single node (start-dev, a local cache) the cluster has no other member, so a request waits for nobody.
 */
public final class CimdCluster implements ClusterListener, AutoCloseable {
    public static final String TASK_KEY = "cimd-operator";
    /** How long a node waits for the others' answers. */
    public static final Duration WAIT = Duration.ofSeconds(5);
    private static final Logger LOG = Logger.getLogger(CimdCluster.class);

    /** Every node's answer to one request, by node name, in the order they came. */
    public record Answers(Map<String, String> byNode, List<String> missing) {
    }

    private final KeycloakSessionFactory sessionFactory;
    /** Carries out a request on this node and returns its answer's JSON (null: no answer). */
    private final BiFunction<KeycloakSession, CimdClusterEvent, String> handler;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    /** Requests from other nodes are carried out here, off Infinispan's notification threads. */
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "cimd-cluster");
        t.setDaemon(true);
        return t;
    });
    private volatile String nodeName;

    public CimdCluster(KeycloakSessionFactory sessionFactory, BiFunction<KeycloakSession, CimdClusterEvent, String> handler) {
        this.sessionFactory = sessionFactory;
        this.handler = handler;
    }

    /** Registers the listener with the cluster provider; called once, from the factory's postInit. */
    public void register(KeycloakSession session) {
        ClusterProvider cluster = session.getProvider(ClusterProvider.class);
        if (cluster == null) {
            LOG.warn("cimd: no ClusterProvider; operator requests act on this node only");
            return;
        }
        cluster.registerListener(TASK_KEY, this);
        nodeName = nodeName(session);
    }

    /** This node's name in the cluster (Keycloak's node name). */
    public String nodeName(KeycloakSession session) {
        String known = nodeName;
        if (known != null) {
            return known;
        }
        try {
            InfinispanConnectionProvider ispn = session.getProvider(InfinispanConnectionProvider.class);
            if (ispn != null && ispn.getTopologyInfo() != null) {
                return nodeName = ispn.getTopologyInfo().getMyNodeName();
            }
        } catch (RuntimeException | LinkageError e) {
            LOG.debugf("cimd: no node name from Infinispan (%s)", e);
        }
        return nodeName = "local";
    }

    /** The names of the cluster's other members in its current view (empty on a single node or a local cache). */
    public List<String> peers(KeycloakSession session) {
        List<String> out = new ArrayList<>();
        try {
            InfinispanConnectionProvider ispn = session.getProvider(InfinispanConnectionProvider.class);
            if (ispn == null) {
                return out;
            }
            EmbeddedCacheManager manager = ispn.getCache(InfinispanConnectionProvider.WORK_CACHE_NAME).getCacheManager();
            List<Address> members = manager.getMembers();
            Address me = manager.getAddress();
            if (members != null) {
                members.stream().filter(a -> !a.equals(me)).forEach(a -> out.add(a.toString()));
            }
        } catch (RuntimeException | LinkageError e) {
            LOG.debugf("cimd: no cluster view from Infinispan (%s)", e);
        }
        return out;
    }

    /**
     * Sends a request to every other node and waits for their answers (at most {@link #WAIT}); the caller carries
     * it out on this node itself.
     */
    public Answers ask(KeycloakSession session, String op, String realmId, String componentId, String clientId) {
        List<String> peers = peers(session);
        ClusterProvider cluster = session.getProvider(ClusterProvider.class);
        if (peers.isEmpty() || cluster == null) {
            return new Answers(Map.of(), List.of());
        }
        String id = UUID.randomUUID().toString();
        Pending p = new Pending(peers.size());
        pending.put(id, p);
        try {
            cluster.notify(TASK_KEY, new CimdClusterEvent(op, id, nodeName(session), realmId, componentId, clientId, null),
                    true, ClusterProvider.DCNotify.LOCAL_DC_ONLY);
            Map<String, String> got = p.await(WAIT);
            List<String> missing = peers.stream().filter(n -> !got.containsKey(n)).toList();
            if (got.size() >= peers.size()) {
                missing = List.of();
            }
            return new Answers(got, missing);
        } finally {
            pending.remove(id);
        }
    }

    @Override
    public void eventReceived(ClusterEvent event) {
        if (!(event instanceof CimdClusterEvent e)) {
            return;
        }
        if (e.isAnswer()) {
            Pending p = pending.get(e.requestId());
            if (p != null) {
                p.add(e.sender(), e.payload());
            }
            return;
        }
        try {
            worker.execute(() -> answer(e));
        } catch (RuntimeException rejected) {
            LOG.debugf("cimd: cluster request %s not carried out (shutting down)", e.op());
        }
    }

    private void answer(CimdClusterEvent request) {
        try {
            KeycloakModelUtils.runJobInTransaction(sessionFactory, session -> {
                String payload = handler.apply(session, request);
                if (payload == null) {
                    return;
                }
                session.getProvider(ClusterProvider.class).notify(TASK_KEY,
                        CimdClusterEvent.answer(request, nodeName(session), payload), true,
                        ClusterProvider.DCNotify.LOCAL_DC_ONLY);
            });
        } catch (RuntimeException e) {
            LOG.warnf(e, "cimd: cluster request %s from %s failed on this node", request.op(), request.sender());
        }
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }

    /** The answers to one request, as they come. */
    private static final class Pending {
        private final int expected;
        private final Map<String, String> answers = new LinkedHashMap<>();

        Pending(int expected) {
            this.expected = expected;
        }

        synchronized void add(String node, String payload) {
            answers.put(node, payload);
            notifyAll();
        }

        synchronized Map<String, String> await(Duration wait) {
            long deadline = System.nanoTime() + wait.toNanos();
            try {
                while (answers.size() < expected) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new LinkedHashMap<>(answers);
        }
    }
}
