/// A hybrid logical clock timestamp: physical milliseconds, a logical counter, and the issuing replica.
///
/// Timestamps are totally ordered by `(physical, counter, replica)`; the replica id breaks ties between
/// replicas, so two different replicas never issue equal timestamps.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch, as the issuing replica's clock saw them (never decreasing).
    public var physical: UInt64
    /// Logical counter distinguishing timestamps issued within one millisecond.
    public var counter: UInt32
    /// The replica that issued the timestamp.
    public var replica: ReplicaID

    /// Creates a timestamp.
    public init(physical: UInt64, counter: UInt32, replica: ReplicaID) {
        self.physical = physical
        self.counter = counter
        self.replica = replica
    }

    /// Orders by physical time, then counter, then replica.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        if lhs.physical != rhs.physical { return lhs.physical < rhs.physical }
        if lhs.counter != rhs.counter { return lhs.counter < rhs.counter }
        return lhs.replica < rhs.replica
    }

    /// `physical.counter@replica-prefix`.
    public var description: String { "\(physical).\(counter)@\(replica.short)" }
}

/// Why a clock refused a timestamp.
public struct ClockError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The offending timestamp.
    public let timestamp: Timestamp
    /// The local physical time when it was refused.
    public let now: UInt64
    /// The configured bound on how far ahead a timestamp may be, in milliseconds.
    public let maxDrift: UInt64

    /// A sentence naming the problem.
    public var description: String {
        "timestamp \(timestamp) is \(timestamp.physical &- now) ms in the future; the bound is \(maxDrift) ms"
    }
}

/// A hybrid logical clock for one replica. Pure: the caller passes the physical time in.
///
/// `tick(now:)` never returns a timestamp lower than or equal to one it returned or observed before,
/// even when `now` goes backwards.
public struct HybridClock: Hashable, Sendable {
    /// The replica whose timestamps this clock issues.
    public let replica: ReplicaID
    /// The highest physical time and counter issued or observed so far.
    public private(set) var latest: (physical: UInt64, counter: UInt32)
    /// How far in the future (ms) an observed timestamp may be before it is refused.
    public var maxDrift: UInt64

    /// Ten minutes, the default bound on clock drift.
    public static let defaultMaxDrift: UInt64 = 10 * 60 * 1000

    /// Creates a clock, optionally resuming from a persisted latest value.
    public init(replica: ReplicaID, physical: UInt64 = 0, counter: UInt32 = 0, maxDrift: UInt64 = defaultMaxDrift) {
        self.replica = replica
        self.latest = (physical, counter)
        self.maxDrift = maxDrift
    }

    /// Issues a new timestamp strictly greater than everything issued or observed.
    public mutating func tick(now: UInt64) -> Timestamp {
        if now > latest.physical {
            latest = (now, 0)
        } else if latest.counter == UInt32.max {
            latest = (latest.physical + 1, 0)
        } else {
            latest.counter += 1
        }
        return Timestamp(physical: latest.physical, counter: latest.counter, replica: replica)
    }

    /// Checks a remote timestamp against this clock's drift bound without changing the clock.
    public func check(_ timestamp: Timestamp, now: UInt64) throws(ClockError) {
        try Self.check(timestamp, now: now, maxDrift: maxDrift)
    }

    /// Checks a remote timestamp against a drift bound (it depends on no clock's state: an import checks
    /// envelopes before it merges them, without the node's clock).
    public static func check(_ timestamp: Timestamp, now: UInt64, maxDrift: UInt64) throws(ClockError) {
        if timestamp.physical > now, timestamp.physical - now > maxDrift {
            throw ClockError(timestamp: timestamp, now: now, maxDrift: maxDrift)
        }
    }

    /// Accepts a remote timestamp (after `check`) so later local timestamps sort after it.
    public mutating func observe(_ timestamp: Timestamp) {
        if (timestamp.physical, timestamp.counter) > (latest.physical, latest.counter) {
            latest = (timestamp.physical, timestamp.counter)
        }
    }

    /// Compares clocks by replica and latest value.
    public static func == (lhs: HybridClock, rhs: HybridClock) -> Bool {
        lhs.replica == rhs.replica && lhs.latest == rhs.latest && lhs.maxDrift == rhs.maxDrift
    }

    /// Hashes replica and latest value.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(replica)
        hasher.combine(latest.physical)
        hasher.combine(latest.counter)
    }
}
