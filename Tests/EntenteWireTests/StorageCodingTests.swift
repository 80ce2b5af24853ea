import EntenteCore
import EntenteTestSupport
import Testing

@testable import EntenteWire

@Suite("StorageCoding")
struct StorageCodingTests {
    @Test("timestamps round-trip and their bytes sort in clock order")
    func timestampOrder() throws {
        var rng = SplitMix64(seed: 31)
        let replicas = (0..<3).map { _ in rng.replica() }
        var stamps: [Timestamp] = []
        for _ in 0..<300 {
            // Few distinct physical times and counters, so that ties fall through to the next component.
            let physical: UInt64 = rng.pick([0, 1, 255, 256, 1 << 40, UInt64.max])
            let counter: UInt32 = rng.pick([0, 1, 255, 256, UInt32.max])
            stamps.append(Timestamp(physical: physical, counter: counter, replica: rng.pick(replicas)))
        }
        for stamp in stamps {
            let encoded = StorageCoding.encode(stamp)
            #expect(encoded.count == 28)
            #expect(try StorageCoding.decodeTimestamp(encoded) == stamp)
        }
        for (left, right) in zip(stamps, stamps.dropFirst()) {
            let bytewise = StorageCoding.encode(left).lexicographicallyPrecedes(StorageCoding.encode(right))
            #expect(bytewise == (left < right), "\(left) vs \(right)")
        }
        let truncated = wireError { () throws(WireError) in try StorageCoding.decodeTimestamp(Array(StorageCoding.encode(stamps[0]).prefix(27))) }
        #expect(truncated?.code == .truncated)
    }

    @Test("values, visibilities and namespaces round-trip")
    func roundTrips() throws {
        var rng = SplitMix64(seed: 32)
        let companies = (0..<4).map { _ in rng.company() }
        for _ in 0..<200 {
            let value = rng.value()
            #expect(try StorageCoding.decodeValue(StorageCoding.encode(value)) == value)
            let visibility = rng.visibility(companies)
            #expect(try StorageCoding.decodeVisibility(StorageCoding.encode(visibility)) == visibility)
        }
        for namespace in [Namespace.joint] + companies.map(Namespace.company) {
            #expect(try StorageCoding.decodeNamespace(StorageCoding.encode(namespace)) == namespace)
        }
    }

    @Test("corrupt stored bytes throw instead of trapping")
    func corrupt() {
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeVisibility([]) }?.code == .truncated)
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeVisibility([9]) }?.code == .malformed)
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeValue([]) }?.code == .truncated)
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeValue([7]) }?.code == .malformed)
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeNamespace([1, 2, 3]) }?.code == .malformed)
    }
}
