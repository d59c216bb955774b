// A producer that is not foodpipe: Kafka's own Java client (the jars compose/up
// fetched), for tests that must feed foodpipe data written the way other
// producers write it. Run as a single source file:
//
//   java -cp 'compose/.stack/kafka-*/libs/*' test/support/java/StrangerProducer.java \
//       --bootstrap localhost:9092 --topic T --input records.tsv [options]
//
// Input: one record per line, "key<TAB>value"; a line without a TAB is a value
// with no key; the value "\N" is a tombstone (null value). Records go to the
// partition Kafka's default partitioner picks for the key unless --partition.
//
// Options:
//   --transactions SPEC   write with a transactional producer; SPEC is a
//                         comma list cycled over the input, e.g. "c5,a3": commit
//                         5 records, abort 3, commit 5, ... (counts of records)
//   --open N              then begin one more transaction with the next N records,
//                         flush them and keep it open
//   --hold-ms MS          ... for MS milliseconds (or until stdin closes), then
//   --finally commit|abort  end it so (default abort)
//   --partition P         every record to partition P
//   --prop KEY=VALUE      a producer property (repeatable)
//   --header KEY=VALUE    a header on every record (repeatable; default none)
//
// Output (stdout): one line per record written, "C|A|O <partition> <offset>",
// for committed (or plain), aborted and left-open-then-ended records, in the
// order they were written; then "done". Errors go to stderr with exit 1.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class StrangerProducer {
  record Input(byte[] key, byte[] value) {}

  static final List<Header> headers = new ArrayList<>();

  public static void main(String[] args) throws Exception {
    String bootstrap = "localhost:9092";
    String topic = null;
    String input = null;
    String transactions = null;
    int open = 0;
    long holdMs = 0;
    boolean finallyCommit = false;
    Integer partition = null;
    Properties props = new Properties();
    for (int i = 0; i < args.length; ++i) {
      String arg = args[i];
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (arg) {
        case "--bootstrap" -> { bootstrap = value; ++i; }
        case "--topic" -> { topic = value; ++i; }
        case "--input" -> { input = value; ++i; }
        case "--transactions" -> { transactions = value; ++i; }
        case "--open" -> { open = Integer.parseInt(value); ++i; }
        case "--hold-ms" -> { holdMs = Long.parseLong(value); ++i; }
        case "--finally" -> { finallyCommit = "commit".equals(value); ++i; }
        case "--partition" -> { partition = Integer.valueOf(value); ++i; }
        case "--prop" -> {
          int eq = value.indexOf('=');
          props.put(value.substring(0, eq), value.substring(eq + 1));
          ++i;
        }
        case "--header" -> {
          int eq = value.indexOf('=');
          headers.add(new RecordHeader(value.substring(0, eq),
                                       value.substring(eq + 1).getBytes(StandardCharsets.UTF_8)));
          ++i;
        }
        default -> fail("unknown option " + arg);
      }
    }
    if (topic == null || input == null) {
      fail("--topic and --input are required");
    }
    List<Input> records = read(input);

    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
    if (transactions != null || open > 0) {
      props.putIfAbsent(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "stranger-" + ProcessHandle.current().pid());
    }

    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      int next = 0;
      if (transactions == null && open == 0) {
        emit('C', send(producer, topic, partition, records.subList(0, records.size())));
        next = records.size();
      } else {
        producer.initTransactions();
        String[] steps = transactions == null ? new String[0] : transactions.split(",");
        int step = 0;
        while (steps.length > 0 && next < records.size() - open) {
          String s = steps[step++ % steps.length].trim();
          boolean commit = s.charAt(0) == 'c';
          int count = Math.min(Integer.parseInt(s.substring(1)), records.size() - open - next);
          producer.beginTransaction();
          List<RecordMetadata> written = send(producer, topic, partition, records.subList(next, next + count));
          if (commit) {
            producer.commitTransaction();
          } else {
            producer.abortTransaction();
          }
          emit(commit ? 'C' : 'A', written);
          next += count;
        }
        if (open > 0) {
          producer.beginTransaction();
          List<RecordMetadata> written = send(producer, topic, partition, records.subList(next, next + open));
          producer.flush();
          System.out.println("open");
          System.out.flush();
          hold(holdMs);
          if (finallyCommit) {
            producer.commitTransaction();
          } else {
            producer.abortTransaction();
          }
          emit(finallyCommit ? 'C' : 'A', written);
        }
      }
    }
    System.out.println("done");
  }

  static List<RecordMetadata> send(KafkaProducer<byte[], byte[]> producer, String topic, Integer partition,
                                   List<Input> records) throws Exception {
    List<Future<RecordMetadata>> futures = new ArrayList<>();
    for (Input r : records) {
      futures.add(producer.send(new ProducerRecord<>(topic, partition, null, r.key(), r.value(), headers)));
    }
    producer.flush();
    List<RecordMetadata> written = new ArrayList<>();
    for (Future<RecordMetadata> f : futures) {
      written.add(f.get());
    }
    return written;
  }

  static void emit(char kind, List<RecordMetadata> written) {
    for (RecordMetadata m : written) {
      System.out.println(kind + " " + m.partition() + " " + m.offset());
    }
    System.out.flush();
  }

  // Waits holdMs, or until stdin reaches its end when holdMs is negative.
  static void hold(long holdMs) throws Exception {
    if (holdMs >= 0) {
      Thread.sleep(holdMs);
      return;
    }
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      while (in.readLine() != null) {
        // the test closes stdin to end the transaction
      }
    }
  }

  static List<Input> read(String path) throws Exception {
    List<Input> records = new ArrayList<>();
    for (String line : Files.readAllLines(Paths.get(path), StandardCharsets.UTF_8)) {
      int tab = line.indexOf('\t');
      byte[] key = tab < 0 ? null : line.substring(0, tab).getBytes(StandardCharsets.UTF_8);
      String value = tab < 0 ? line : line.substring(tab + 1);
      records.add(new Input(key, value.equals("\\N") ? null : value.getBytes(StandardCharsets.UTF_8)));
    }
    return records;
  }

  static void fail(String message) {
    System.err.println("StrangerProducer: " + message);
    System.exit(1);
  }
}
