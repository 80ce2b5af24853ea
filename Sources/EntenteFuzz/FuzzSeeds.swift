import EntenteCore
import EntenteCrypto
import EntenteSync
import EntenteWire

/// Realistic seed inputs made with the real encoders, for `Fuzz/corpus/<target>/`.
///
/// Seeds named `valid-*` must be accepted by their target (the corpus replay checks it); `other-*` seeds are well-formed inputs that
/// a target rejects on purpose (an envelope for another company, a refusal where a hello was due).
///
/// Envelopes are sealed with fresh random content keys, so every generation differs; the committed corpus is
/// one generation. The CSV seeds are the example files under `Examples/`, copied by the writer.
public enum FuzzSeeds {
    /// The generated seeds of `target`, by file name.
    public static func seeds(for target: FuzzTarget) -> [(name: String, bytes: [UInt8])] {
        switch target {
        case .envelope:
            [
                ("valid-deal", envelope(dealOperations, to: [.beta])),
                ("valid-three-recipients", envelope(memberOperations, to: [.alpha, .beta, .gamma])),
                ("other-not-for-us", envelope(dealOperations, to: [.gamma])),
            ]
        case .bundle:
            [
                ("valid-two", Bundle(envelopes: [deal, envelope(memberOperations, to: [.beta])]).encoded()),
                ("valid-empty", Bundle(envelopes: []).encoded()),
                ("valid-revocation", Bundle(envelopes: [deal], revocations: [lostLaptop]).encoded()),
            ]
        case .operations:
            [
                ("valid-deal", OperationCodec.encode(dealOperations, origins: [dealOrigin])),
                ("valid-members", OperationCodec.encode(memberOperations, origins: [dealOrigin])),
                ("valid-empty", OperationCodec.encode([])),
                ("valid-deal-v1", OperationCodec.encode(dealOperations, version: 1)),
                ("valid-deal-v2", OperationCodec.encode(dealOperations, version: 2)),
            ]
        case .partnerCard:
            [
                ("valid-alpha", card(.alpha, name: "Alpha Systems GmbH", address: "127.0.0.1:7400")),
                ("valid-beta", card(.beta, name: "Béta Cloud", address: nil)),
            ]
        case .summary:
            [
                (
                    "valid-two",
                    Array(
                        Summary(
                            company: FuzzIdentity.beta.company,
                            held: [FuzzIdentity.alpha.replica: 3, FuzzIdentity.gamma.replica: 1]
                        ).json().utf8
                    )
                ),
                ("valid-empty", Array(Summary(company: FuzzIdentity.alpha.company, held: [:]).json().utf8)),
            ]
        case .handshake:
            handshakeSeeds()
        case .syncSession:
            sessionSeeds()
        case .csvImport, .csvMapping:
            []
        }
    }

    /// A seed input of ``FuzzTarget/syncSession``: one record per message.
    public static func script(_ records: [(control: UInt8, message: [UInt8])]) -> [UInt8] {
        var writer = ByteWriter()
        for record in records {
            writer.write(record.control)
            writer.writeUInt16(UInt16(truncatingIfNeeded: record.message.count))
            writer.write(record.message)
        }
        return writer.bytes
    }

    // MARK: - Operations and envelopes

    static let clock = Timestamp(physical: 1_790_000_000_000, counter: 0, replica: FuzzIdentity.alpha.replica)

    static func stamp(_ counter: UInt32) -> Timestamp {
        Timestamp(physical: clock.physical, counter: counter, replica: clock.replica)
    }

    /// Alpha revokes one of its replicas (not the fuzzing one): a lost laptop.
    static let lostLaptop = ReplicaRevocation.issue(
        companyKey: FuzzIdentity.alpha.companyKey,
        replica: ReplicaID(raw: ID128(high: 0x1a57, low: 0x1a9_7009)),
        at: clock.physical
    )

    /// The deal is named by its creation stamp in version 3 batches.
    static let dealOrigin = ObjectOrigin(owner: FuzzIdentity.alpha.company, created: stamp(0))
    static let dealNonce = Derivation.nonce(created: dealOrigin.created)
    static let dealID = Derivation.objectID(owner: FuzzIdentity.alpha.company, nonce: dealNonce)

    static var dealOperations: [Operation] {
        let joint = Visibility.participants
        var operations = [
            Operation(object: dealID, timestamp: stamp(0), kind: .create(type: "opportunity", nonce: dealNonce)),
            Operation(object: dealID, timestamp: stamp(1), kind: .addParticipant(FuzzIdentity.beta.company)),
        ]
        let values: [(String, Value)] = [
            ("title", .string("Acme data platform")),
            ("stage", .enumeration("qualified")),
            ("probability", .integer(20)),
            ("on_hold", .boolean(false)),
            ("close_date", CalendarDate(year: 2027, month: 3, day: 31).map(Value.date) ?? .null),
            ("weight", DecimalNumber(significand: 125, scale: 2).map(Value.decimal) ?? .null),
            (
                "amount",
                DecimalNumber(significand: 124_000_000, scale: 2).flatMap { amount in
                    CurrencyCode("USD").map { Value.money(Money(amount: amount, currency: $0)) }
                } ?? .null
            ),
            ("updated", .timestamp(1_790_000_000_000)),
            ("account", .reference(dealID)),
            ("notes", .null),
        ]
        for (index, (name, value)) in values.enumerated() {
            operations.append(
                Operation(
                    object: dealID,
                    timestamp: stamp(UInt32(index + 2)),
                    kind: .set(FieldKey(.joint, name), value, joint, preds: index == 0 ? [] : [stamp(1)])
                )
            )
        }
        return operations
    }

    static var memberOperations: [Operation] {
        let alpha = FuzzIdentity.alpha.company
        let key = FieldKey(.company(alpha), "delivery_models")
        return [
            Operation(object: dealID, timestamp: stamp(20), kind: .addElement(key, "saas", .private)),
            Operation(
                object: dealID,
                timestamp: stamp(21),
                kind: .removeElement(key, "saas", observed: [stamp(20)], .companies([FuzzIdentity.beta.company]))
            ),
            Operation(object: dealID, timestamp: stamp(22), kind: .removeParticipant(FuzzIdentity.gamma.company)),
            Operation(object: dealID, timestamp: stamp(23), kind: .archive(true)),
            Operation(
                object: dealID,
                timestamp: stamp(24),
                kind: .set(FieldKey(.joint, "stage"), .enumeration("won"), .participants, preds: [stamp(3)]),
                writer: FuzzIdentity.beta.company
            ),
        ]
    }

    static func envelope(_ operations: [Operation], to recipients: [FuzzIdentity]) -> [UInt8] {
        let addressees = recipients.map {
            Addressee(company: $0.company, encryptionKey: $0.boxKeys.publicKey, sequence: 1)
        }
        do {
            return try Envelope.seal(operations, from: FuzzIdentity.alpha.credentials, to: addressees, origins: [dealOrigin])
                .bytes
        } catch {
            preconditionFailure("cannot seal a seed envelope: \(error)")
        }
    }

    static let deal = envelope(dealOperations, to: [.beta])

    static func card(_ identity: FuzzIdentity, name: String, address: String?) -> [UInt8] {
        let card = PartnerCard.issue(
            name: name,
            companyKey: identity.companyKey,
            encryptionKey: identity.boxKeys.publicKey,
            address: address
        )
        return Array(card.json().utf8)
    }

    // MARK: - Sync

    static func handshakeSeeds() -> [(name: String, bytes: [UInt8])] {
        let alpha = FuzzIdentity.alpha
        let beta = FuzzIdentity.beta
        guard let ephemeral = try? KeyExchangeKeyPair(seed: [UInt8](repeating: 9, count: 32)) else {
            preconditionFailure("fixed key-exchange seed rejected")
        }
        let nonce = [UInt8](repeating: 0x42, count: 32)
        let hello = SyncWire.clientHello(from: alpha, to: beta.company, ephemeral: ephemeral.publicKey, nonce: nonce)
        let finishUnsigned = SyncWire.clientFinishUnsigned(streamHeader: [UInt8](repeating: 3, count: 24))
        let finish = finishUnsigned + alpha.replicaKey.signature(for: finishUnsigned)
        let serverHello = SyncWire.serverHello(
            from: beta,
            answering: hello,
            ephemeral: ephemeral.publicKey,
            nonce: nonce,
            streamHeader: [UInt8](repeating: 4, count: 24)
        )
        let refusal = SyncWire.refusal(reason: 4, message: "no common protocol version: the client speaks 2")
        let wrongServer = SyncWire.clientHello(
            from: alpha,
            to: FuzzIdentity.gamma.company,
            ephemeral: ephemeral.publicKey,
            nonce: nonce,
            versions: [1, 2, 7]
        )
        return [
            ("valid-server-hello-finish", [0] + SyncWire.frame(hello) + SyncWire.frame(finish)),
            ("valid-server-hello-chunked", [2 << 1] + SyncWire.frame(hello) + SyncWire.frame(finish)),
            ("valid-server-hello-refusal", [0] + SyncWire.frame(hello) + SyncWire.frame(refusal)),
            ("valid-server-wrong-node", [0] + SyncWire.frame(wrongServer)),
            ("valid-client-server-hello", [1] + SyncWire.frame(serverHello)),
            ("valid-client-refusal", [1] + SyncWire.frame(refusal)),
            ("other-server-refusal", [0] + SyncWire.frame(refusal)),
        ]
    }

    static func sessionSeeds() -> [(name: String, bytes: [UInt8])] {
        let alpha = FuzzIdentity.alpha
        let summary = SyncWire.summary(
            company: alpha.company,
            held: [(FuzzIdentity.beta.replica, 0), (FuzzIdentity.gamma.replica, 12)]
        )
        let complete = script([
            (0, summary),
            (0, SyncWire.batch(number: 1, total: 2, envelopes: [deal])),
            (0, SyncWire.ack(number: 1, applied: 1)),
            (0x40, SyncWire.batch(number: 2, total: 2, envelopes: [envelope(memberOperations, to: [.beta])])),
            (0, SyncWire.ack(number: 2, duplicates: 1)),
            (0, SyncWire.ack(number: 3)),
            (0, SyncWire.done(batches: 2, envelopes: 2)),
        ])
        let nothing = script([
            (0, SyncWire.summary(company: alpha.company, held: [])),
            (0, SyncWire.ack(number: 1)),
            (0, SyncWire.ack(number: 2)),
            (0, SyncWire.done(batches: 0, envelopes: 0)),
            (0, SyncWire.ack(number: 3)),
        ])
        let revoking = script([
            (0, summary),
            (0, SyncWire.revocations([lostLaptop])),
            (0, SyncWire.batch(number: 1, total: 1, envelopes: [deal])),
            (0, SyncWire.ack(number: 1, applied: 1)),
            (0, SyncWire.ack(number: 2)),
            (0, SyncWire.done(batches: 1, envelopes: 1)),
        ])
        return [
            ("valid-complete", complete),
            ("valid-revocations", revoking),
            ("valid-nothing-to-send", nothing),
            ("valid-summary-only", script([(0, summary)])),
            (
                "other-revocations-after-a-batch",
                script([
                    (0, summary),
                    (0, SyncWire.batch(number: 1, total: 1, envelopes: [deal])),
                    (0, SyncWire.revocations([lostLaptop])),
                ])
            ),
            ("other-error", script([(0, summary), (1, SyncWire.error(code: 5, message: "store is busy"))])),
            ("other-raw-frame", script([(0x80, summary)])),
        ]
    }
}
