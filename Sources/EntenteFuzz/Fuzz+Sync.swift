import EntenteCore
import EntenteCrypto
import EntenteSync
import EntenteWire

extension Fuzz {
    /// Feeds bytes as the peer's side of a handshake.
    ///
    /// The first byte chooses the role of the session under
    /// test (bit 0: 0 = server, which Alpha dials; 1 = client dialling Beta) and how the rest arrives (bits
    /// 1-7: in chunks of 16 × that many bytes, 0 = all at once); the rest is the peer's byte stream (framed
    /// hellos, finish, refusals).
    /// - Returns: true unless the session failed on a malformed or oversized message (a message that decoded
    ///   but did not authenticate counts as accepted: the decoder was passed).
    public static func handshake(_ bytes: [UInt8]) -> Bool {
        guard let control = bytes.first else { return false }
        let stream = Array(bytes.dropFirst())
        let isClient = control & 1 == 1
        let chunk = Int(control >> 1) * 16
        var session =
            isClient
            ? SyncSession(role: .client(dialing: FuzzIdentity.beta.company), configuration: configuration(.alpha))
            : SyncSession(role: .server, configuration: configuration(.beta))
        var actions = session.start()
        var offset = 0
        while offset < stream.count, !session.isOver {
            let end = chunk == 0 ? stream.count : min(stream.count, offset + chunk)
            actions += session.receive(Array(stream[offset..<end]))
            offset = end
        }
        let accepted = !actions.contains { action in
            guard case .failed(let error) = action else { return false }
            return error.code == .protocolViolation || error.code == .tooLarge
        }
        _ = session.receiveEndOfStream()
        return accepted
    }

    /// Runs an established session: the input as messages from an authenticated peer.
    ///
    /// Completes a real handshake as Alpha with a server `SyncSession` of Beta, then feeds it the input as
    /// session messages from Alpha, each encrypted with the session's secret stream. The input is a sequence
    /// of records: a control byte, a `u16` length, then that many bytes of message (the last record takes
    /// what is left). Control bit 7: send the bytes as a raw frame body, unencrypted; bit 6: deliver the frame
    /// in two pieces; bit 0: push with the `final` tag. The harness answers the session like a node: its
    /// summary, three envelopes to send (so acknowledgements matter), and every batch imported after the
    /// envelopes went through ``envelope(_:)``.
    /// - Returns: true if the session had not failed when the input ended.
    public static func syncSession(_ bytes: [UInt8]) -> Bool {
        var peer = SessionPeer()
        var offset = 0
        while offset < bytes.count, !peer.session.isOver {
            let control = bytes[offset]
            var length = bytes.count - offset - 1
            if bytes.count - offset >= 3 {
                length = min(Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]), bytes.count - offset - 3)
                offset += 3
            } else {
                offset += 1
            }
            let message = Array(bytes[offset..<(offset + length)])
            offset += length
            peer.deliver(message, raw: control & 0x80 != 0, split: control & 0x40 != 0, final: control & 1 != 0)
        }
        let accepted = !peer.failed
        peer.drive(peer.session.receiveEndOfStream())
        return accepted
    }

    static func configuration(_ identity: FuzzIdentity) -> SyncSession.Configuration {
        var limits = SyncLimits()
        limits.maxSummaryEntries = 64
        limits.maxEnvelopesPerBatch = 8
        limits.maxBatchBytes = 4096
        return SyncSession.Configuration(
            credentials: identity.credentials,
            partners: FuzzIdentity.partners,
            limits: limits
        )
    }
}

/// Alpha's side of an established session with Beta's `SyncSession`, and the node logic that answers it.
struct SessionPeer {
    var session: SyncSession
    let pusher: SecretStreamPusher
    var failed = false
    var finished = false

    /// What Beta sends: three envelope-sized blobs that travel in three batches (`maxBatchBytes` is 4096).
    static let outgoing = (1...3).map { [UInt8](repeating: $0, count: 3000) }

    init() {
        let alpha = FuzzIdentity.alpha
        session = SyncSession(role: .server, configuration: Fuzz.configuration(.beta))
        _ = session.start()
        let ephemeral = KeyExchangeKeyPair.generate()
        let hello = SyncWire.clientHello(
            from: alpha,
            to: FuzzIdentity.beta.company,
            ephemeral: ephemeral.publicKey,
            nonce: [UInt8](repeating: 7, count: 32)
        )
        let answer = session.receive(SyncWire.frame(hello))
        guard case .send(let framed)? = answer.first, framed.count == 4 + SyncWire.serverHelloLength else {
            preconditionFailure("the fuzzed server did not answer the client hello: \(answer)")
        }
        let serverHello = Array(framed.dropFirst(4))
        let offset = SyncWire.serverHelloEphemeralOffset
        do {
            let serverKey = try KeyExchangePublicKey(bytes: Array(serverHello[offset..<(offset + 32)]))
            let keys = try ephemeral.clientSessionKeys(serverKey: serverKey)
            pusher = try SecretStreamPusher(key: keys.sending)
        } catch {
            preconditionFailure("the fuzz harness's key exchange failed: \(error)")
        }
        let unsigned = SyncWire.clientFinishUnsigned(streamHeader: pusher.header)
        let transcript = SyncWire.transcriptHash([hello, serverHello, unsigned])
        let signature = alpha.replicaKey.signature(for: SyncWire.clientSignatureContext + transcript)
        let actions = session.receive(SyncWire.frame(unsigned + signature))
        guard actions.contains(where: { if case .authenticated = $0 { true } else { false } }) else {
            preconditionFailure("the fuzzed server did not authenticate the harness: \(actions)")
        }
        drive(actions)
    }

    mutating func deliver(_ message: [UInt8], raw: Bool, split: Bool, final: Bool) {
        let body: [UInt8]
        if raw {
            body = message
        } else {
            guard let sealed = try? pusher.push(message, tag: final ? .final : .message) else { return }
            body = sealed
        }
        let frame = SyncWire.frame(body)
        if split {
            let middle = frame.count / 2
            drive(session.receive(Array(frame[..<middle])))
            drive(session.receive(Array(frame[middle...])))
        } else {
            drive(session.receive(frame))
        }
    }

    /// Performs what the session asks, as a node's driver would, until it asks for nothing more.
    mutating func drive(_ initial: [SyncAction]) {
        var queue = initial[...]
        while let action = queue.popFirst() {
            switch action {
            case .send, .progress:
                break
            case .authenticated:
                queue += session.localSummary(
                    Summary(company: FuzzIdentity.beta.company, held: [FuzzIdentity.alpha.replica: 1])
                )
            case .selectEnvelopes:
                queue += session.selected(OutgoingSelection(count: Self.outgoing.count, through: 3))
            case .loadEnvelopes(let request):
                // One envelope a page: the log position of `outgoing[i]` is i + 1.
                let next = Int(request.after)
                queue += session.loaded(OutgoingPage(envelopes: [Self.outgoing[next]], last: Int64(next + 1)))
            case .admitRevocations(let revocations):
                session.admitted(
                    revocations: revocations.filter { statement in
                        FuzzIdentity.partners[statement.company].map { statement.isValid(companyKey: $0) } ?? false
                    }.count
                )
            case .importBatch(let number, let envelopes):
                let applied = envelopes.reduce(0) { $0 + (Fuzz.envelope($1) ? 1 : 0) }
                queue += session.imported(
                    batch: number,
                    outcome: ImportOutcome(
                        applied: applied,
                        refused: Array(repeating: "refused", count: envelopes.count - applied)
                    )
                )
            case .finished:
                finished = true
            case .failed:
                failed = true
            }
        }
    }
}
