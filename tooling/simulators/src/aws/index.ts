import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, readBody } from '../http-server.js';

/**
 * The smallest S3 + SQS + STS the aws-sqs collector needs, for machines without moto (only Node and npm):
 * one loopback port that answers, through the real AWS SDK v3,
 *   SQS (JSON protocol): ReceiveMessage (long poll, visibility timeout, receive count), DeleteMessage(Batch),
 *     ChangeMessageVisibility(Batch), GetQueueAttributes, SendMessage;
 *   S3 (path style): GetObject, PutObject, HeadObject;
 *   STS (query protocol): GetCallerIdentity.
 * It is the demo's stand-in where moto is missing, not a test peer: tests use moto (`@collector/testkit`
 * `startMoto`), which implements the real services. Faults: none (the chaos runs use moto, which has none).
 */
export interface MiniAws {
  endpoint: string;
  region: string;
  /** Creates a queue and returns its URL (http://127.0.0.1:<port>/<account>/<name>). */
  createQueue(name: string): string;
  putObject(bucket: string, key: string, body: Buffer): void;
  /** Sends the S3 ObjectCreated notification for an object, as S3 would. */
  notifyObjectCreated(queueUrl: string, bucket: string, key: string): void;
  depth(queueUrl: string): { visible: number; inFlight: number };
  close(): Promise<void>;
}

const ACCOUNT = '123456789012';

interface QueuedMessage {
  id: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  receipt?: string;
}

interface Queue {
  name: string;
  messages: QueuedMessage[];
  visibilityTimeoutSeconds: number;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

export async function startMiniAws(region = 'us-east-1'): Promise<MiniAws> {
  const queues = new Map<string, Queue>();
  const objects = new Map<string, Buffer>();
  let base = '';

  const queueOf = (url: unknown): Queue | undefined => queues.get(String(url ?? '').split('/').pop() ?? '');

  function sqs(action: string, input: Record<string, any>): { status: number; body: unknown } {
    const queue = queueOf(input['QueueUrl']);
    if (!queue) return { status: 400, body: { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' } };
    const now = Date.now();
    const byReceipt = (receipt: unknown) => queue.messages.find((m) => m.receipt === receipt);
    switch (action) {
      case 'ReceiveMessage': {
        const max = Math.min(10, Number(input['MaxNumberOfMessages'] ?? 1));
        const timeout = Number(input['VisibilityTimeout'] ?? queue.visibilityTimeoutSeconds) * 1000;
        const picked = queue.messages.filter((m) => m.visibleAt <= now).slice(0, max);
        return {
          status: 200,
          body: {
            Messages: picked.map((m) => {
              m.receiveCount++;
              m.visibleAt = now + timeout;
              m.receipt = randomUUID();
              return {
                MessageId: m.id,
                ReceiptHandle: m.receipt,
                MD5OfBody: md5(m.body),
                Body: m.body,
                Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentAt) },
              };
            }),
          },
        };
      }
      case 'DeleteMessage':
        queue.messages = queue.messages.filter((m) => m.receipt !== input['ReceiptHandle']);
        return { status: 200, body: {} };
      case 'DeleteMessageBatch': {
        const entries = (input['Entries'] ?? []) as { Id: string; ReceiptHandle: string }[];
        const handles = new Set(entries.map((e) => e.ReceiptHandle));
        queue.messages = queue.messages.filter((m) => !m.receipt || !handles.has(m.receipt));
        return { status: 200, body: { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] } };
      }
      case 'ChangeMessageVisibility': {
        const message = byReceipt(input['ReceiptHandle']);
        if (message) message.visibleAt = now + Number(input['VisibilityTimeout'] ?? 0) * 1000;
        return { status: 200, body: {} };
      }
      case 'ChangeMessageVisibilityBatch': {
        const entries = (input['Entries'] ?? []) as { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[];
        for (const e of entries) {
          const message = byReceipt(e.ReceiptHandle);
          if (message) message.visibleAt = now + Number(e.VisibilityTimeout ?? 0) * 1000;
        }
        return { status: 200, body: { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] } };
      }
      case 'GetQueueAttributes': {
        const visible = queue.messages.filter((m) => m.visibleAt <= now).length;
        return {
          status: 200,
          body: {
            Attributes: {
              QueueArn: `arn:aws:sqs:${region}:${ACCOUNT}:${queue.name}`,
              ApproximateNumberOfMessages: String(visible),
              ApproximateNumberOfMessagesNotVisible: String(queue.messages.length - visible),
              VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
            },
          },
        };
      }
      case 'SendMessage': {
        const body = String(input['MessageBody'] ?? '');
        const id = randomUUID();
        queue.messages.push({ id, body, sentAt: now, receiveCount: 0, visibleAt: now });
        return { status: 200, body: { MessageId: id, MD5OfMessageBody: md5(body) } };
      }
      default:
        return { status: 400, body: { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `${action} is not supported by the demo's mini AWS` } };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
      const action = target.slice('AmazonSQS.'.length);
      let input: Record<string, unknown> = {};
      try {
        input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        // an empty or broken body: the action decides
      }
      let result = sqs(action, input);
      // Long polling: an empty receive waits (briefly; the demo's queues are filled before it starts).
      if (action === 'ReceiveMessage' && result.status === 200 && !(result.body as { Messages: unknown[] }).Messages.length) {
        const waitMs = Math.min(Number(input['WaitTimeSeconds'] ?? 0), 1) * 1000;
        if (waitMs > 0) {
          await new Promise((r) => setTimeout(r, waitMs));
          result = sqs(action, input);
        }
      }
      res.writeHead(result.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() }).end(JSON.stringify(result.body));
      return;
    }
    const form = new URLSearchParams(req.method === 'POST' ? body.toString('utf8') : '');
    if (form.get('Action') === 'GetCallerIdentity') {
      res.writeHead(200, { 'content-type': 'text/xml' }).end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>arn:aws:iam::${ACCOUNT}:user/demo</Arn><UserId>AIDADEMO000000000000</UserId><Account>${ACCOUNT}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
      return;
    }
    // S3, path style: /<bucket>/<key>
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\//, '');
    if (req.method === 'PUT' && path.includes('/')) {
      objects.set(path, body);
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
      return;
    }
    const object = objects.get(path);
    if ((req.method === 'GET' || req.method === 'HEAD') && object) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(object.length),
        etag: `"${createHash('md5').update(object).digest('hex')}"`,
        'last-modified': new Date().toUTCString(),
      });
      res.end(req.method === 'GET' ? object : undefined);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${path}</Key></Error>`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  base = (await listenOnLoopback(server)).url;

  return {
    endpoint: base,
    region,
    createQueue(name) {
      queues.set(name, { name, messages: [], visibilityTimeoutSeconds: 30 });
      return `${base}/${ACCOUNT}/${name}`;
    },
    putObject(bucket, key, body) {
      objects.set(`${bucket}/${key}`, body);
    },
    notifyObjectCreated(queueUrl, bucket, key) {
      const object = objects.get(`${bucket}/${key}`);
      const record = {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: object?.length ?? 0 } },
      };
      sqs('SendMessage', { QueueUrl: queueUrl, MessageBody: JSON.stringify({ Records: [record] }) });
    },
    depth(queueUrl) {
      const queue = queueOf(queueUrl);
      const now = Date.now();
      const visible = queue?.messages.filter((m) => m.visibleAt <= now).length ?? 0;
      return { visible, inFlight: (queue?.messages.length ?? 0) - visible };
    },
    close: () => closeServer(server),
  };
}
