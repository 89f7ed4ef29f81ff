package dev.sparkmnist.training.resident;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.network.TransportContext;
import org.apache.spark.network.buffer.NettyManagedBuffer;
import org.apache.spark.network.client.RpcResponseCallback;
import org.apache.spark.network.client.TransportClient;
import org.apache.spark.network.client.TransportClientBootstrap;
import org.apache.spark.network.client.TransportClientFactory;
import org.apache.spark.network.crypto.AuthClientBootstrap;
import org.apache.spark.network.crypto.AuthServerBootstrap;
import org.apache.spark.network.netty.SparkTransportConf;
import org.apache.spark.network.protocol.OneWayMessage;
import org.apache.spark.network.server.OneForOneStreamManager;
import org.apache.spark.network.server.RpcHandler;
import org.apache.spark.network.server.StreamManager;
import org.apache.spark.network.server.TransportServer;
import org.apache.spark.network.server.TransportServerBootstrap;
import org.apache.spark.network.util.TransportConf;
import scala.Option;

/**
 * One per JVM: the endpoint through which this JVM's resident workers receive their peers' slices, and the
 * connections through which they send theirs. Built from Spark's own network layer ({@code TransportContext},
 * {@code TransportServer}, {@code TransportClientFactory}: the Netty transport that Spark's block transfer service
 * and external shuffle service are built on), with the same {@code spark.shuffle.io.*} settings and, when
 * {@code spark.authenticate} is on, the same authentication and encryption ({@code AuthServerBootstrap}) as the
 * block transfer service.
 *
 * <p>Why not the BlockManager's own service: a block uploaded to a peer's BlockManager is stored with
 * {@code putBlockData}, which reports it to the driver's BlockManagerMaster (a synchronous RPC, under the block's
 * write lock); a block fetched from a peer before it exists is reported as missing to the master too. Both would put
 * the driver back on every round. Here a parcel goes from sender to receiver and nowhere else; the receiver's
 * handler hands it to the waiting worker's {@link Inbox}.
 *
 * <p>In the driver's JVM (Spark local mode, where every task runs in the driver) no server starts: all workers are
 * in this JVM and parcels go from one thread's hands to another's. Workers in the same executor JVM do the same.
 */
final class PeerTransport {
    /** The address of the driver's JVM, where no server runs (local mode). */
    static final String LOCAL = "local";
    /** Finished inboxes remembered so that late parcels of a failed attempt are dropped, not kept. */
    private static final int CLOSED_REMEMBERED = 4096;
    private static PeerTransport instance;

    private final String address;
    private final TransportServer server;
    private final TransportClientFactory clients;
    private final Map<String, Inbox> inboxes = new HashMap<>();
    private final Set<String> closed = new LinkedHashSet<>();

    private PeerTransport(SparkEnv env) {
        if (env == null || "driver".equals(env.executorId())) {
            this.address = LOCAL;
            this.server = null;
            this.clients = null;
            return;
        }
        SparkConf conf = env.conf();
        TransportConf transport = SparkTransportConf.fromSparkConf(conf, "shuffle", 1, Option.empty());
        TransportContext context = new TransportContext(transport, new Handler(), true);
        List<TransportServerBootstrap> serverBoot = List.of();
        List<TransportClientBootstrap> clientBoot = List.of();
        if (env.securityManager().isAuthenticationEnabled()) {
            serverBoot = List.of(new AuthServerBootstrap(transport, env.securityManager()));
            clientBoot = List.of(new AuthClientBootstrap(transport, conf.getAppId(), env.securityManager()));
        }
        // The executor's BlockManager host: the address peers already reach it at for shuffle and blocks.
        String host = env.blockManager().blockManagerId().host();
        this.server = context.createServer(host, 0, serverBoot);
        this.clients = context.createClientFactory(clientBoot);
        this.address = host + ":" + server.getPort();
    }

    /** A transport of its own for workers on threads of this JVM only, outside Spark (tests). */
    static PeerTransport inThisJvm() {
        return new PeerTransport(null);
    }

    /** This JVM's transport, started on first use. */
    static synchronized PeerTransport get() {
        if (instance == null) {
            instance = new PeerTransport(SparkEnv.get());
        }
        return instance;
    }

    /** Where peers send this JVM's parcels: {@code host:port}, or {@link #LOCAL} in the driver. */
    String address() {
        return address;
    }

    /** The inbox of {@code worker} in stage attempt {@code attempt}, with any parcels that arrived before it. */
    Inbox open(String attempt, int worker) {
        synchronized (inboxes) {
            return inboxes.computeIfAbsent(attempt + "/" + worker, k -> new Inbox());
        }
    }

    /** The worker is done with its inbox: parcels that still arrive for it are dropped. */
    void close(String attempt, int worker) {
        String key = attempt + "/" + worker;
        synchronized (inboxes) {
            inboxes.remove(key);
            closed.add(key);
            if (closed.size() > CLOSED_REMEMBERED) {
                closed.remove(closed.iterator().next());
            }
        }
    }

    /** Inboxes open in this JVM (tests: none outlives its stage). */
    int openInboxes() {
        synchronized (inboxes) {
            return inboxes.size();
        }
    }

    private void deliver(Parcel p) {
        Inbox inbox = inbox(p.attempt(), p.to());
        if (inbox != null) {
            inbox.deliver(p);
        }
    }

    /** The inbox for a parcel to worker {@code to} of {@code attempt}; null when it is closed (drop the parcel). */
    private Inbox inbox(String attempt, int to) {
        String key = attempt + "/" + to;
        synchronized (inboxes) {
            if (closed.contains(key)) {
                return null; // a parcel of a failed attempt, or a duplicate after the worker finished
            }
            return inboxes.computeIfAbsent(key, k -> new Inbox());
        }
    }

    /**
     * Sends {@code p} to the JVM at {@code to} without waiting for it to arrive: a one-way message (no reply
     * travels back, which halves the messages of a round). A connection that cannot be made fails here; a parcel
     * lost with its receiver's executor fails the receiver's task, and Spark then kills the stage attempt, which
     * wakes every waiting worker. A write that fails is reported to {@code sender}, the sending worker's inbox.
     */
    void send(String to, Parcel p, Inbox sender) {
        if (to.equals(address)) {
            deliver(p);
            return;
        }
        int colon = to.lastIndexOf(':');
        try {
            TransportClient client = clients.createClient(to.substring(0, colon),
                Integer.parseInt(to.substring(colon + 1)));
            // encoded straight into a pooled direct buffer of Netty's, released once written (a heap buffer would
            // be a new array of the slice's size every parcel, copied once more into a direct buffer by the write)
            int size = p.wireBytes();
            ByteBuf buf = client.getChannel().alloc().directBuffer(size, size);
            p.encode(buf.nioBuffer(0, size));
            buf.writerIndex(size);
            client.getChannel().writeAndFlush(new OneWayMessage(new NettyManagedBuffer(buf))).addListener(f -> {
                if (!f.isSuccess()) {
                    if (buf.refCnt() > 0) { // never encoded for the wire, so nobody released it
                        buf.release(buf.refCnt());
                    }
                    sender.fail(cannotSend(to, p, f.cause()));
                }
            });
        } catch (IOException | RuntimeException e) {
            throw cannotSend(to, p, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw cannotSend(to, p, e);
        }
    }

    private static IllegalStateException cannotSend(String to, Parcel p, Throwable e) {
        return new IllegalStateException("worker " + p.from() + " could not send round " + p.round() + "'s slice to"
            + " worker " + p.to() + " at " + to + " (its executor is lost or unreachable): " + e.getMessage(), e);
    }

    /** Receives parcels from peers in other JVMs. */
    private final class Handler extends RpcHandler {
        private final StreamManager streams = new OneForOneStreamManager();

        @Override
        public void receive(TransportClient client, ByteBuffer message) {
            Parcel p = Parcel.decode(message, (attempt, to, length) -> {
                Inbox inbox = inbox(attempt, to);
                return inbox == null ? null : inbox.array(length);
            });
            if (p != null) {
                deliver(p);
            }
        }

        @Override
        public void receive(TransportClient client, ByteBuffer message, RpcResponseCallback callback) {
            receive(client, message);
            callback.onSuccess(ByteBuffer.allocate(0));
        }

        @Override
        public StreamManager getStreamManager() {
            return streams;
        }
    }
}
