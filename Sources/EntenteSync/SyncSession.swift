public import EntenteCore
public import EntenteCrypto
public import EntenteWire

/// What a ``SyncSession`` asks its driver to do. The driver performs each action in order and feeds the
/// result back (``SyncSession/localSummary(_:revocations:)``, ``SyncSession/selected(_:)``,
/// ``SyncSession/loaded(_:)``, ``SyncSession/imported(batch:outcome:)``).
public enum SyncAction: Sendable {
    /// Write these bytes to the connection (a complete frame).
    case send([UInt8])
    /// The peer proved its identity; answer with ``SyncSession/localSummary(_:)``.
    case authenticated(peer: CompanyID, replica: ReplicaID)
    /// The peer's summary arrived; count the envelopes `peer` is entitled to and `summary` does not cover,
    /// and answer with ``SyncSession/selected(_:)``.
    case selectEnvelopes(for: CompanyID, since: Summary)
    /// Read the next page of envelopes to send and answer with ``SyncSession/loaded(_:)``. The session asks
    /// for one page at a time, and only when it has sent what it holds.
    case loadEnvelopes(OutgoingPageRequest)
    /// The peer passed on replica revocations; store those that verify (committing them) before importing
    /// any of its batches, then call ``SyncSession/admitted(revocations:)``.
    case admitRevocations([ReplicaRevocation])
    /// A batch arrived; import it (committing it), then call ``SyncSession/imported(batch:outcome:)``.
    case importBatch(number: UInt64, envelopes: [[UInt8]])
    /// A batch was sent and acknowledged, or received and imported.
    case progress(SyncProgress)
    /// Both directions are complete; close the connection once written.
    case finished(SyncReport)
    /// The session failed; after writing what was sent before, close the connection.
    case failed(SyncError)
}

/// The network sync protocol as a pure state machine (`Specs/sync.md`): the mutually authenticated
/// handshake, the encrypted framing, and the two-way exchange of summaries and envelope batches.
///
/// It performs no I/O: a transport feeds it the bytes that arrive (``receive(_:)``) and writes the frames it
/// returns; a driver performs the store actions it asks for. The same machine runs over TCP and over the
/// in-memory transport. It is not `Sendable`: one task owns it.
///
/// ```swift
/// var session = SyncSession(role: .client(dialing: partner), configuration: configuration)
/// var actions = session.start()            // [.send(client hello)]
/// actions = session.receive(bytesFromPeer) // [.send(client finish), .authenticated(...)]
/// ```
public struct SyncSession {
    /// Which end of the connection this is.
    public enum Role: Hashable, Sendable {
        /// The dialling side, which must reach the given company.
        case client(dialing: CompanyID)
        /// The accepting side.
        case server
    }

    /// Who this node is and whom it trusts.
    public struct Configuration: Sendable {
        /// This replica's key and its company's certificate for it.
        public var credentials: ReplicaCredentials
        /// The pinned partners' company keys; nobody else is let in.
        public var partners: [CompanyID: SigningPublicKey]
        /// The protocol's bounds.
        public var limits: SyncLimits
        /// The protocol versions this side speaks, ascending. Only version 1 exists; tests change this to
        /// prove that a downgrade is detected.
        public var versions: [UInt8]
        /// Replicas revoked by their own company (keyed by that company): refused at the handshake whatever
        /// their certificate says.
        public var revoked: [CompanyID: Set<ReplicaID>] = [:]

        /// Creates a configuration speaking ``SyncSession/protocolVersions``.
        public init(
            credentials: ReplicaCredentials,
            partners: [CompanyID: SigningPublicKey],
            limits: SyncLimits = SyncLimits()
        ) {
            self.credentials = credentials
            self.partners = partners
            self.limits = limits
            self.versions = SyncSession.protocolVersions
        }
    }

    /// The peer's replica certificate, checked against its company's pinned key and the revocations, and
    /// refused if it is this very replica. `peer` names it in errors ("the client's replica").
    private func peerCertificate(
        company: CompanyID,
        replicaKey: SigningPublicKey,
        signature: [UInt8],
        companyKey: SigningPublicKey,
        peer: String,
        selfMessage: String
    ) throws(SyncError) -> ReplicaCertificate {
        let certificate = ReplicaCertificate(company: company, replicaKey: replicaKey, signature: signature)
        guard certificate.isValid(companyKey: companyKey) else {
            throw SyncError(
                .authenticationFailed,
                "\(peer) certificate does not verify under the pinned key of company \(company.short)"
            )
        }
        guard configuration.revoked[company]?.contains(certificate.replica) != true else {
            throw SyncError(
                .authenticationFailed,
                "\(peer) key (replica \(certificate.replica.short)) was revoked by company \(company.short)"
            )
        }
        guard certificate.replica != configuration.credentials.replica else {
            throw SyncError(.authenticationFailed, selfMessage)
        }
        return certificate
    }

    /// The protocol versions this build speaks.
    public static let protocolVersions: [UInt8] = [1]

    private enum Phase {
        case idle
        case clientSentHello(encodedHello: [UInt8], versions: [UInt8], ephemeral: KeyExchangeKeyPair)
        case serverAwaitingHello
        case serverSentHello(
            clientHello: [UInt8],
            serverHello: [UInt8],
            client: SigningPublicKey,
            report: SyncReport,
            keys: SessionKeys
        )
        case established
        case finished
        case failed
    }

    private let role: Role
    private let configuration: Configuration
    private var phase: Phase = .idle
    private var decoder = FrameDecoder()
    private var pusher: SecretStreamPusher?
    private var puller: SecretStreamPuller?
    private var report: SyncReport?
    private var bytesSent = 0
    private var bytesReceived = 0

    // The exchange, once established.
    private var sentSummary = false
    private var peerSummary: Summary?
    private var peerSentRevocations = false
    // What this side sends: counted once, then read page by page (the last page read is `buffer`, until
    // batched).
    private var selection: OutgoingSelection?
    private var outgoingTotal: Int { selection?.count ?? 0 }
    private var cursor: Int64 = 0
    private var loadedEnvelopes = 0
    private var buffer: [[UInt8]] = []
    private var isLoading = false
    private var nextBatch: UInt64 = 1
    private var unacked: [(number: UInt64, count: Int, bytes: Int)] = []
    private var sentDone = false
    private var ackedEnvelopes = 0
    private var ackedBytes = 0
    private var receivedBatches: UInt64 = 0
    private var pendingImports: [(number: UInt64, count: Int, bytes: Int)] = []
    private var importedEnvelopes = 0
    private var importedBytes = 0
    private var peerTotal = 0
    private var peerDone = false

    /// Creates a session; call ``start()`` next.
    public init(role: Role, configuration: Configuration) {
        self.role = role
        self.configuration = configuration
    }

    /// True once both sides proved their identities (and after a later failure).
    public var isAuthenticated: Bool { report != nil }

    /// True once the session finished or failed.
    public var isOver: Bool {
        switch phase {
        case .finished, .failed: true
        default: false
        }
    }

    /// The authenticated peer, once known.
    public var peer: CompanyID? { report?.peer }

    /// Starts the session: a client sends its hello; a server waits for one.
    public mutating func start() -> [SyncAction] {
        guard case .idle = phase else { return [] }
        switch role {
        case .server:
            phase = .serverAwaitingHello
            return []
        case .client(let dialing):
            guard configuration.partners[dialing] != nil else {
                return fail(
                    SyncError(.unknownCompany, "company \(dialing.short) is not a pinned partner"),
                    notify: false
                )
            }
            let ephemeral = KeyExchangeKeyPair.generate()
            let credentials = configuration.credentials
            let hello = ClientHello(
                versions: configuration.versions,
                company: credentials.company,
                replicaKey: credentials.key.publicKey,
                certificate: credentials.certificate.signature,
                intendedServer: dialing,
                ephemeralKey: ephemeral.publicKey,
                nonce: secureRandomBytes(Handshake.nonceByteCount)
            )
            let encoded = hello.encoded()
            phase = .clientSentHello(encodedHello: encoded, versions: configuration.versions, ephemeral: ephemeral)
            return [send(encoded)]
        }
    }

    /// Feeds bytes that arrived from the peer (any split: the session reassembles frames).
    public mutating func receive(_ bytes: [UInt8]) -> [SyncAction] {
        guard !isOver else { return [] }
        bytesReceived += bytes.count
        decoder.append(bytes)
        var actions: [SyncAction] = []
        do {
            while !isOver, let frame = try decoder.next(maxLength: maxFrameNow) {
                actions += try handle(frame)
            }
        } catch {
            actions += fail(error)
        }
        return actions
    }

    /// The connection ended (the peer closed it, or it broke).
    public mutating func receiveEndOfStream() -> [SyncAction] {
        guard !isOver else { return [] }
        let detail: String
        if report == nil || !isEstablished {
            detail = "the peer closed the connection during the handshake"
        } else {
            detail =
                "the peer closed the connection before the sync was complete (received \(importedEnvelopes + pendingImports.reduce(0) { $0 + $1.count }) envelopes, \(ackedEnvelopes) of ours acknowledged)"
        }
        return fail(SyncError(.closed, detail), notify: false)
    }

    /// This node's summary and the replica revocations it passes on, after
    /// ``SyncAction/authenticated(peer:replica:)``.
    public mutating func localSummary(_ summary: Summary, revocations: [ReplicaRevocation] = []) -> [SyncAction] {
        guard isEstablished, !sentSummary else { return [] }
        sentSummary = true
        var actions = [sendMessage(.summary(summary))]
        if !revocations.isEmpty {
            let passed = Array(revocations.prefix(SessionMessage.maxRevocations))
            actions.append(sendMessage(.revocations(passed)))
            report?.revocationsSent = passed.count
        }
        actions += checkCompletion()
        return actions
    }

    /// How many of the peer's revocations were new here, after ``SyncAction/admitRevocations(_:)``.
    public mutating func admitted(revocations count: Int) {
        report?.revocationsLearnt += count
    }

    /// How many envelopes to send and where they end, after ``SyncAction/selectEnvelopes(for:since:)``.
    public mutating func selected(_ selection: OutgoingSelection) -> [SyncAction] {
        guard isEstablished, self.selection == nil, peerSummary != nil else { return [] }
        guard selection.count >= 0 else {
            return fail(SyncError(.storage, "the store counted \(selection.count) envelopes"))
        }
        self.selection = selection
        var actions = pump()
        actions += checkCompletion()
        return actions
    }

    /// A page of envelopes to send, after ``SyncAction/loadEnvelopes(_:)``.
    public mutating func loaded(_ page: OutgoingPage) -> [SyncAction] {
        guard isEstablished, isLoading, let selection else { return [] }
        isLoading = false
        if let oversized = page.envelopes.firstIndex(where: { $0.count > Envelope.maxBytes || $0.isEmpty }) {
            return fail(
                SyncError(
                    .storage,
                    "envelope \(loadedEnvelopes + oversized + 1) to send is empty or over \(Envelope.maxBytes) bytes"
                )
            )
        }
        let remaining = selection.count - loadedEnvelopes
        guard !page.envelopes.isEmpty, page.envelopes.count <= remaining else {
            return fail(
                SyncError(
                    .storage,
                    "the store returned a page of \(page.envelopes.count) envelopes where \(remaining) of the \(selection.count) it counted were left"
                )
            )
        }
        loadedEnvelopes += page.envelopes.count
        cursor = page.last
        buffer += page.envelopes
        var actions = pump()
        actions += checkCompletion()
        return actions
    }

    /// The result of importing batch `number`, after ``SyncAction/importBatch(number:envelopes:)``: the
    /// batch is committed, so it is acknowledged.
    public mutating func imported(batch number: UInt64, outcome: ImportOutcome) -> [SyncAction] {
        guard isEstablished, var report else { return [] }
        guard let first = pendingImports.first, first.number == number else {
            return fail(SyncError(.storage, "batch \(number) was imported out of order"))
        }
        pendingImports.removeFirst()
        if let reason = outcome.cutOff { return fail(SyncError(.tooLarge, reason)) }
        importedEnvelopes += first.count
        importedBytes += first.bytes
        report.applied += outcome.applied
        report.duplicates += outcome.duplicates
        report.waiting = outcome.waiting
        report.operations += outcome.operations
        report.refused += outcome.refused.count
        report.refusedReasons += outcome.refused.prefix(max(0, 20 - report.refusedReasons.count))
        self.report = report
        var actions = [
            sendMessage(
                .ack(
                    number: number,
                    applied: UInt64(outcome.applied),
                    duplicates: UInt64(outcome.duplicates),
                    waiting: UInt64(outcome.waiting),
                    refused: UInt64(outcome.refused.count)
                )
            ),
            SyncAction.progress(
                SyncProgress(
                    peer: report.peer,
                    direction: .receiving,
                    envelopes: importedEnvelopes,
                    total: peerTotal,
                    bytes: importedBytes
                )
            ),
        ]
        actions += checkCompletion()
        return actions
    }

    /// Ends the session because of a local problem (a timeout, a store failure): tells the peer why when
    /// the connection allows it, then reports ``SyncAction/failed(_:)``.
    public mutating func abort(_ error: SyncError) -> [SyncAction] {
        fail(error)
    }

    // MARK: - Frames

    private var isEstablished: Bool {
        if case .established = phase { return true }
        return false
    }

    private var maxFrameNow: Int {
        isEstablished ? configuration.limits.maxFrame : configuration.limits.maxHandshakeFrame
    }

    private mutating func send(_ body: [UInt8]) -> SyncAction {
        let frame = FrameDecoder.frame(body)
        bytesSent += frame.count
        return .send(frame)
    }

    private mutating func sendMessage(_ message: SessionMessage, final: Bool = false) -> SyncAction {
        guard let pusher else { return .failed(SyncError(.protocolViolation, "no secure channel")) }
        do {
            return send(try pusher.push(message.encoded(), tag: final ? .final : .message))
        } catch {
            return .failed(SyncError(.protocolViolation, "cannot encrypt a frame: \(error.message)"))
        }
    }

    private mutating func handle(_ frame: [UInt8]) throws(SyncError) -> [SyncAction] {
        switch phase {
        case .idle, .serverAwaitingHello:
            guard case .server = role else {
                throw SyncError(.protocolViolation, "the peer sent data before the session started")
            }
            return try serverReceivedHello(frame)
        case .clientSentHello(let encodedHello, let versions, let ephemeral):
            if Handshake.type(of: frame) == .refusal { return refused(try Refusal(decoding: frame)) }
            return try clientReceivedHello(frame, encodedHello: encodedHello, versions: versions, ephemeral: ephemeral)
        case .serverSentHello(let clientHello, let serverHello, let client, let report, let keys):
            if Handshake.type(of: frame) == .refusal { return refused(try Refusal(decoding: frame)) }
            return try serverReceivedFinish(
                frame,
                clientHello: clientHello,
                serverHello: serverHello,
                client: client,
                report: report,
                keys: keys
            )
        case .established:
            return try receivedSessionFrame(frame)
        case .finished, .failed:
            return []
        }
    }

    private mutating func refused(_ refusal: Refusal) -> [SyncAction] {
        let code: SyncError.Code =
            switch refusal.reason {
            case .unsupportedVersion: .unsupportedVersion
            case .timedOut: .timedOut
            default: .refused
            }
        return fail(SyncError(code, "the peer refused the connection: \(refusal.message)"), notify: false)
    }

    // MARK: - Handshake

    private mutating func serverReceivedHello(_ frame: [UInt8]) throws(SyncError) -> [SyncAction] {
        let hello = try ClientHello(decoding: frame)
        let credentials = configuration.credentials
        guard let companyKey = configuration.partners[hello.company] else {
            throw SyncError(
                .unknownCompany,
                "company \(hello.company.short) is not a partner of this node (its card is not pinned here)"
            )
        }
        guard hello.intendedServer == credentials.company else {
            let error = SyncError(
                .authenticationFailed,
                "the client dialled company \(hello.intendedServer.short), but this node is company \(credentials.company.short)"
            )
            return fail(error, reason: .wrongNode)
        }
        let certificate = try peerCertificate(
            company: hello.company,
            replicaKey: hello.replicaKey,
            signature: hello.certificate,
            companyKey: companyKey,
            peer: "the client's replica",
            selfMessage: "the client is this very replica (a node cannot sync with itself)"
        )
        guard let version = Set(hello.versions).intersection(configuration.versions).max() else {
            throw SyncError(
                .unsupportedVersion,
                "no common protocol version: the client speaks \(hello.versions.map(String.init).joined(separator: ", ")), this node \(configuration.versions.map(String.init).joined(separator: ", "))"
            )
        }
        let ephemeral = KeyExchangeKeyPair.generate()
        let keys: SessionKeys
        let pusher: SecretStreamPusher
        do {
            keys = try ephemeral.serverSessionKeys(clientKey: hello.ephemeralKey)
            pusher = try SecretStreamPusher(key: keys.sending)
        } catch {
            throw SyncError(.authenticationFailed, "key exchange failed: \(error.message)")
        }
        var answer = ServerHello(
            version: version,
            company: credentials.company,
            replicaKey: credentials.key.publicKey,
            certificate: credentials.certificate.signature,
            ephemeralKey: ephemeral.publicKey,
            nonce: secureRandomBytes(Handshake.nonceByteCount),
            streamHeader: pusher.header,
            signature: []
        )
        let transcript = Handshake.transcriptHash([frame, answer.unsignedEncoding()])
        answer.signature = credentials.key.signature(for: Handshake.serverSignatureContext + transcript)
        let encoded = answer.encoded()
        self.pusher = pusher
        let report = SyncReport(
            peer: hello.company,
            peerReplica: certificate.replica,
            isClient: false,
            version: version
        )
        phase = .serverSentHello(
            clientHello: frame,
            serverHello: encoded,
            client: hello.replicaKey,
            report: report,
            keys: keys
        )
        return [send(encoded)]
    }

    private mutating func clientReceivedHello(
        _ frame: [UInt8],
        encodedHello: [UInt8],
        versions: [UInt8],
        ephemeral: KeyExchangeKeyPair
    ) throws(SyncError) -> [SyncAction] {
        guard case .client(let dialing) = role else { throw SyncError(.protocolViolation, "unexpected server hello") }
        let hello = try ServerHello(decoding: frame)
        guard hello.company == dialing else {
            throw SyncError(
                .authenticationFailed,
                "this node dialled company \(dialing.short), but company \(hello.company.short) answered"
            )
        }
        guard let companyKey = configuration.partners[hello.company] else {
            throw SyncError(.unknownCompany, "company \(hello.company.short) is not a pinned partner")
        }
        let certificate = try peerCertificate(
            company: hello.company,
            replicaKey: hello.replicaKey,
            signature: hello.certificate,
            companyKey: companyKey,
            peer: "the answering replica's",
            selfMessage: "the address answers with this very replica (a node cannot sync with itself)"
        )
        guard versions.contains(hello.version) else {
            throw SyncError(
                .unsupportedVersion,
                "the peer chose protocol version \(hello.version), which this node did not offer"
            )
        }
        let transcript = Handshake.transcriptHash([encodedHello, hello.unsignedEncoding()])
        guard hello.replicaKey.isValidSignature(hello.signature, for: Handshake.serverSignatureContext + transcript)
        else {
            throw SyncError(
                .authenticationFailed,
                "the answering replica's signature over the handshake does not verify (the handshake was tampered with, replayed or downgraded)"
            )
        }
        let pusher: SecretStreamPusher
        do {
            let keys = try ephemeral.clientSessionKeys(serverKey: hello.ephemeralKey)
            puller = try SecretStreamPuller(key: keys.receiving, header: hello.streamHeader)
            pusher = try SecretStreamPusher(key: keys.sending)
        } catch {
            throw SyncError(.authenticationFailed, "key exchange failed: \(error.message)")
        }
        var finish = ClientFinish(streamHeader: pusher.header, signature: [])
        let fullTranscript = Handshake.transcriptHash([encodedHello, frame, finish.unsignedEncoding()])
        finish.signature = configuration.credentials.key.signature(
            for: Handshake.clientSignatureContext + fullTranscript
        )
        self.pusher = pusher
        report = SyncReport(
            peer: hello.company,
            peerReplica: certificate.replica,
            isClient: true,
            version: hello.version
        )
        phase = .established
        return [send(finish.encoded()), .authenticated(peer: hello.company, replica: certificate.replica)]
    }

    private mutating func serverReceivedFinish(
        _ frame: [UInt8],
        clientHello: [UInt8],
        serverHello: [UInt8],
        client: SigningPublicKey,
        report: SyncReport,
        keys: SessionKeys
    ) throws(SyncError) -> [SyncAction] {
        let finish = try ClientFinish(decoding: frame)
        let transcript = Handshake.transcriptHash([clientHello, serverHello, finish.unsignedEncoding()])
        guard client.isValidSignature(finish.signature, for: Handshake.clientSignatureContext + transcript) else {
            throw SyncError(
                .authenticationFailed,
                "the client's signature over the handshake does not verify (the handshake was tampered with or replayed)"
            )
        }
        do {
            puller = try SecretStreamPuller(key: keys.receiving, header: finish.streamHeader)
        } catch {
            throw SyncError(.authenticationFailed, "the client's stream header was refused: \(error.message)")
        }
        self.report = report
        phase = .established
        return [.authenticated(peer: report.peer, replica: report.peerReplica)]
    }

    // MARK: - Established session

    private mutating func receivedSessionFrame(_ frame: [UInt8]) throws(SyncError) -> [SyncAction] {
        guard let puller, let report else { throw SyncError(.protocolViolation, "no secure channel") }
        let opened: SecretStreamMessage
        do { opened = try puller.pull(frame) } catch {
            throw SyncError(
                .tamperedFrame,
                "an encrypted frame from the peer failed authentication (tampered with, replayed, reordered or cut); the connection is closed"
            )
        }
        let message = try SessionMessage.decode(opened.bytes, limits: configuration.limits)
        if opened.tag == .final, case .error = message {
        } else if opened.tag == .final {
            throw SyncError(.protocolViolation, "the peer ended its stream with a message other than an error")
        }
        switch message {
        case .summary(let summary):
            guard peerSummary == nil else { throw SyncError(.protocolViolation, "the peer sent a second summary") }
            guard summary.company == report.peer else {
                throw SyncError(
                    .protocolViolation,
                    "the peer's summary describes company \(summary.company.short), not itself"
                )
            }
            peerSummary = summary
            return [.selectEnvelopes(for: report.peer, since: summary)]
        case .batch(let number, let total, let envelopes):
            guard peerSummary != nil else {
                throw SyncError(.protocolViolation, "the peer sent a batch before its summary")
            }
            guard !peerDone else {
                throw SyncError(.protocolViolation, "the peer sent a batch after saying it was done")
            }
            guard number == receivedBatches + 1 else {
                throw SyncError(
                    .protocolViolation,
                    "the peer sent batch \(number) where batch \(receivedBatches + 1) was due"
                )
            }
            let received = importedEnvelopes + pendingImports.reduce(0) { $0 + $1.count }
            guard total <= UInt64(Int.max), received + envelopes.count <= Int(total) else {
                throw SyncError(.protocolViolation, "the peer sent more envelopes than the \(total) it announced")
            }
            guard pendingImports.count < configuration.limits.window else {
                throw SyncError(
                    .protocolViolation,
                    "the peer sent more than \(configuration.limits.window) batches without waiting for an acknowledgement"
                )
            }
            guard total <= UInt64(configuration.limits.maxEnvelopesPerSync) else {
                throw SyncError(
                    .tooLarge,
                    "the peer announced \(total) envelopes, over this node's limit of \(configuration.limits.maxEnvelopesPerSync) per sync"
                )
            }
            receivedBatches = number
            peerTotal = Int(total)
            let size = envelopes.reduce(0) { $0 + $1.count }
            guard (self.report?.receivedEnvelopeBytes ?? 0) + size <= configuration.limits.maxBytesPerSync else {
                throw SyncError(
                    .tooLarge,
                    "the peer sent over \(configuration.limits.maxBytesPerSync) envelope bytes, this node's limit per sync"
                )
            }
            pendingImports.append((number, envelopes.count, size))
            self.report?.received += envelopes.count
            self.report?.receivedEnvelopeBytes += size
            return [.importBatch(number: number, envelopes: envelopes)]
        case .ack(let number, let applied, let duplicates, _, let refused):
            guard let first = unacked.first, first.number == number else {
                throw SyncError(
                    .protocolViolation,
                    "the peer acknowledged batch \(number), which is not the oldest unacknowledged batch"
                )
            }
            unacked.removeFirst()
            ackedEnvelopes += first.count
            ackedBytes += first.bytes
            self.report?.peerApplied += Int(clamping: applied)
            self.report?.peerDuplicates += Int(clamping: duplicates)
            self.report?.peerRefused += Int(clamping: refused)
            var actions: [SyncAction] = [
                .progress(
                    SyncProgress(
                        peer: report.peer,
                        direction: .sending,
                        envelopes: ackedEnvelopes,
                        total: outgoingTotal,
                        bytes: ackedBytes
                    )
                )
            ]
            actions += pump()
            actions += checkCompletion()
            return actions
        case .done(let batches, let envelopes):
            guard !peerDone, peerSummary != nil else {
                throw SyncError(.protocolViolation, "unexpected end-of-batches message")
            }
            let received = importedEnvelopes + pendingImports.reduce(0) { $0 + $1.count }
            guard batches == receivedBatches, envelopes == UInt64(received) else {
                throw SyncError(
                    .protocolViolation,
                    "the peer says it sent \(batches) batches of \(envelopes) envelopes, but \(receivedBatches) batches of \(received) arrived"
                )
            }
            peerDone = true
            if peerTotal == 0 { peerTotal = received }
            return checkCompletion()
        case .error(_, let text):
            return fail(SyncError(.peerError, "the peer ended the session: \(text)"), notify: false)
        case .revocations(let revocations):
            guard peerSummary != nil, !peerSentRevocations, receivedBatches == 0, !peerDone else {
                throw SyncError(
                    .protocolViolation,
                    "the peer sent revocations other than once, right after its summary"
                )
            }
            peerSentRevocations = true
            return [.admitRevocations(revocations)]
        }
    }

    /// Sends batches from the loaded page while the window allows, asks for the next page once that one is
    /// sent (so at most the window's batches and one page are held), then sends the end-of-batches message.
    private mutating func pump() -> [SyncAction] {
        guard let selection, let peerSummary, let peer = report?.peer else { return [] }
        var actions: [SyncAction] = []
        let limits = configuration.limits
        while unacked.count < limits.window, !buffer.isEmpty {
            var count = 0
            var size = 0
            for envelope in buffer {
                guard count < limits.maxEnvelopesPerBatch, count == 0 || size + envelope.count <= limits.maxBatchBytes
                else { break }
                count += 1
                size += envelope.count
            }
            let batch = Array(buffer.prefix(count))
            buffer.removeFirst(count)
            actions.append(sendMessage(.batch(number: nextBatch, total: UInt64(outgoingTotal), envelopes: batch)))
            unacked.append((nextBatch, count, size))
            nextBatch += 1
            self.report?.sent += count
            self.report?.sentEnvelopeBytes += size
        }
        if buffer.isEmpty, loadedEnvelopes < selection.count, !isLoading {
            isLoading = true
            actions.append(
                .loadEnvelopes(
                    OutgoingPageRequest(
                        partner: peer,
                        summary: peerSummary,
                        after: cursor,
                        through: selection.through,
                        maxEnvelopes: min(limits.maxEnvelopesPerBatch, selection.count - loadedEnvelopes),
                        maxBytes: limits.maxBatchBytes
                    )
                )
            )
        }
        if buffer.isEmpty, loadedEnvelopes == selection.count, !sentDone {
            sentDone = true
            actions.append(sendMessage(.done(batches: nextBatch - 1, envelopes: UInt64(outgoingTotal))))
        }
        return actions
    }

    private mutating func checkCompletion() -> [SyncAction] {
        guard isEstablished, sentSummary, peerSummary != nil, sentDone, unacked.isEmpty, peerDone,
            pendingImports.isEmpty,
            var report
        else { return [] }
        report.bytesSent = bytesSent
        report.bytesReceived = bytesReceived
        self.report = report
        phase = .finished
        return [.finished(report)]
    }

    // MARK: - Failure

    private mutating func fail(_ error: SyncError, notify: Bool = true, reason: RefusalReason? = nil) -> [SyncAction] {
        guard !isOver else { return [] }
        var actions: [SyncAction] = []
        if notify {
            switch phase {
            case .established:
                let action = sendMessage(
                    .error(code: RefusalReason(code: error.code).rawValue, message: error.message),
                    final: true
                )
                if case .send = action { actions.append(action) }
            case .clientSentHello, .serverAwaitingHello, .serverSentHello:
                actions.append(
                    send(Refusal(reason: reason ?? RefusalReason(code: error.code), message: error.message).encoded())
                )
            case .idle, .finished, .failed:
                break
            }
        }
        phase = .failed
        actions.append(.failed(error))
        return actions
    }
}
