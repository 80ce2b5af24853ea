import EntenteCore
import EntenteCrypto
import EntenteTestSupport

@testable import EntenteWire

/// Unicode scalars mixing 1-, 2-, 3- and 4-byte UTF-8 forms, combining marks and a BOM.
private let scalarPool: [Unicode.Scalar] = [
    "a", "Z", "0", " ", ".", "-", "_", "é", "ß", "Ω", "ж", "中", "日", "\u{0301}", "\u{FEFF}", "😀", "👩", "\u{200D}",
    "\u{10FFFF}", "\u{7F}", "\u{01}",
]

extension SplitMix64 {
    /// A string of `count` scalars from the pool (its UTF-8 form is at most 4 * count bytes).
    mutating func text(scalars count: Int) -> String {
        var out = String.UnicodeScalarView()
        for _ in 0..<count { out.append(pick(scalarPool)) }
        return String(out)
    }

    mutating func timestamp() -> Timestamp {
        let physical: UInt64 = chance(20) ? pick([0, 1, 127, 128, UInt64.max]) : next() >> UInt64(int(0...63))
        let counter: UInt32 = chance(20) ? pick([0, 1, UInt32.max]) : UInt32.random(in: 0...UInt32.max, using: &self)
        return Timestamp(physical: physical, counter: counter, replica: replica())
    }

    mutating func value() -> Value {
        switch int(0...13) {
        case 0: return .null
        case 1: return .string("")
        case 2: return .string(text(scalars: int(1...12)))
        case 3: return .string(String(repeating: "x", count: int(120...400)))  // multi-byte length varint
        case 4: return .integer(pick([Int64.min, Int64.max, 0, -1, 1, -64, 64]))
        case 5: return .integer(Int64(bitPattern: next()))
        case 6: return .boolean(chance(50))
        case 7: return .decimal(decimal())
        case 8: return .money(Money(amount: decimal(), currency: currency()))
        case 9: return .date(date())
        case 10: return .timestamp(instant())
        case 11: return .enumeration(chance(10) ? "" : text(scalars: int(1...20)))
        case 12: return .reference(object())
        default: return .boolean(chance(50))
        }
    }

    /// A normalised decimal: random significand (sometimes an extreme), random scale 0...18.
    mutating func decimal() -> DecimalNumber {
        let significand: Int64 =
            chance(20) ? pick([0, 1, -1, 10, Int64.max, Int64.min]) : Int64(bitPattern: next()) >> UInt64(int(0...62))
        // The initialiser normalises (drops trailing fractional zeros), so any pair gives a valid number.
        return DecimalNumber(significand: significand, scale: UInt8(int(0...18)))!
    }

    /// Three random upper-case ASCII letters.
    mutating func currency() -> CurrencyCode {
        let letters = (0..<3).map { _ in UInt8(int(65...90)) }
        return CurrencyCode(String(decoding: letters, as: UTF8.self))!
    }

    /// A valid calendar date, sometimes on a boundary (29 February, 31 December, year 1 or 9999).
    mutating func date() -> CalendarDate {
        if chance(20) {
            return pick([
                CalendarDate(year: 2024, month: 2, day: 29)!, CalendarDate(year: 1, month: 1, day: 1)!,
                CalendarDate(year: 9999, month: 12, day: 31)!, CalendarDate(year: 2000, month: 2, day: 29)!,
            ])
        }
        let year = Int32(int(1...9999))
        let month = UInt8(int(1...12))
        return CalendarDate(year: year, month: month, day: UInt8(int(1...28)))!
    }

    /// Milliseconds since the epoch, negative or positive. Stays clear of Int64.min, whose description traps
    /// (see ValueParsingTests); the extremes are covered by dedicated codec tests.
    mutating func instant() -> Int64 {
        chance(20)
            ? pick([0, -1, 1, -86_400_001, 1_709_164_800_123, Int64.max])
            : Int64(int(-10_000_000_000_000...10_000_000_000_000))
    }

    mutating func visibility(_ companies: [CompanyID]) -> Visibility {
        switch int(0...2) {
        case 0: return .private
        case 1: return .participants
        default: return .companies(Set((0..<int(0...4)).map { _ in pick(companies) }))
        }
    }

    /// Up to `limit` random timestamps (predecessors of a write, adds observed by a remove).
    mutating func timestamps(_ limit: Int = 4) -> [Timestamp] {
        (0..<int(0...limit)).map { _ in timestamp() }
    }

    /// A random operation of any kind, within the codec's size limits, sometimes with an explicit writer.
    mutating func operation(companies: [CompanyID]) -> Operation {
        let kind: Operation.Kind
        let namespace: Namespace = chance(40) ? .joint : .company(pick(companies))
        switch int(0...6) {
        case 0: kind = .create(type: text(scalars: int(0...16)), nonce: bytes(Derivation.nonceByteCount))
        case 1: kind = .addParticipant(pick(companies))
        case 2: kind = .removeParticipant(pick(companies))
        case 3: kind = .archive(chance(50))
        case 4:
            kind = .addElement(
                FieldKey(namespace, text(scalars: int(0...32))),
                text(scalars: int(0...40)),
                visibility(companies)
            )
        case 5:
            kind = .removeElement(
                FieldKey(namespace, text(scalars: int(0...32))),
                text(scalars: int(0...40)),
                observed: timestamps(),
                visibility(companies)
            )
        default:
            kind = .set(
                FieldKey(namespace, text(scalars: int(0...32))),
                value(),
                visibility(companies),
                preds: timestamps()
            )
        }
        return Operation(
            object: object(),
            timestamp: timestamp(),
            kind: kind,
            writer: chance(25) ? pick(companies) : nil
        )
    }

    mutating func operations(count: Int) -> [Operation] {
        let companies = (0..<5).map { _ in company() }
        return (0..<count).map { _ in operation(companies: companies) }
    }
}

/// Runs `body` and returns the wire error it threw, or nil if it returned normally.
func wireError<T>(_ body: () throws(WireError) -> T) -> WireError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A company with its keys, built from seeded bytes so that ids (and their order) reproduce.
struct TestCompany {
    let signing: SigningKeyPair
    let box: BoxKeyPair

    init(_ rng: inout SplitMix64) throws {
        signing = try SigningKeyPair(seed: rng.bytes(32))
        box = try BoxKeyPair(secretKey: rng.bytes(32))
    }

    init(signing: SigningKeyPair, box: BoxKeyPair) {
        self.signing = signing
        self.box = box
    }

    var id: CompanyID { Derivation.companyID(for: signing.publicKey) }

    func replica(_ rng: inout SplitMix64) throws -> ReplicaCredentials {
        let key = try SigningKeyPair(seed: rng.bytes(32))
        return ReplicaCredentials(key: key, certificate: .issue(companyKey: signing, replicaKey: key.publicKey))
    }

    func addressee(sequence: UInt64) -> Addressee {
        Addressee(company: id, encryptionKey: box.publicKey, sequence: sequence)
    }
}

/// Operations a replica of `owner` may legitimately send: a create with a derived id, then writes.
func sampleOperations(owner: CompanyID, partner: CompanyID, rng: inout SplitMix64) -> [Operation] {
    let nonce = rng.bytes(Derivation.nonceByteCount)
    let object = Derivation.objectID(owner: owner, nonce: nonce)
    let replica = rng.replica()
    func stamp(_ physical: UInt64) -> Timestamp { Timestamp(physical: physical, counter: 0, replica: replica) }
    return [
        Operation(object: object, timestamp: stamp(1_000), kind: .create(type: "opportunity", nonce: nonce)),
        Operation(object: object, timestamp: stamp(1_001), kind: .addParticipant(partner)),
        Operation(
            object: object,
            timestamp: stamp(1_002),
            kind: .set(FieldKey(.joint, "title"), .string("Büro ☕"), .participants, preds: [])
        ),
        Operation(
            object: object,
            timestamp: stamp(1_003),
            kind: .set(FieldKey(.company(owner), "amount"), .integer(-42), .private, preds: [])
        ),
    ]
}
