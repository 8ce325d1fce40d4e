import { afterEach, describe, expect, it } from 'vitest';
import { missingLogLines } from '@collector/testkit';
import { closeAll, DAY, makeConfig, runOnce, startSimAndTarget, tempDir } from './helpers.js';

afterEach(closeAll);

const PULLER = 'InputProcess::Office365ExchangeMessageTracePuller(office365_exchange_message,7,office365_exchange_message_service,predefined)';

/**
 * Lines of Devo's Microsoft 365 message trace manual (its example log of a first run) that operators grep
 * for, as printed there; `…` stands for a Python dict the manual prints where we print JSON.
 */
const MANUAL_LINES = [
  'INFO InputProcess::Office365ExchangeMessageTracePullerSetup(…) -> Puller Setup started',
  'INFO InputProcess::Office365ExchangeMessageTracePullerSetup(…) -> Setup for module <Office365ExchangeMessageTracePuller> has been successfully executed',
  '-> We do not have a token. Getting a new one from the server.',
  '-> Attempting to get OAuth2 token from O365 Message Tracing server....',
  '-> Successfully received JWT token from … which expires in 3599 seconds',
  `INFO ${PULLER} -> Due to remote API requirements, this collector cannot request data less than <90000> seconds or older than 11 days`,
  `INFO ${PULLER} -> Retrieved state from the persistence -> None`,
  `INFO ${PULLER} -> No saved state found, applying values by default`,
  `INFO ${PULLER} -> Validating the start and end time based on the maximum threshold (-11 days): 2022-12-11T14:17:16.229112`,
  `INFO ${PULLER} -> The persistence has been modified. Saving state as …`,
  `INFO ${PULLER} -> Pull started`,
  `INFO ${PULLER} -> Running a new pipeline (2022-12-20T12:02:16.228314 - 2022-12-20T12:17:16.228314)`,
  `INFO ${PULLER} -> 0 Events retrieved from the last API call.`,
  `INFO ${PULLER} -> No events detected. Pull Summary: 1 request(s) made, 0 event(s) filtered, 0 event(s) sent to Devo. Using tag: cloud.office365.messagetracing. Period from 2022-12-20T12:02:16.228314 to 2022-12-20T12:17:16.228314`,
  `INFO ${PULLER} -> Savepoint reached: Updating persistence with -> …`,
  `INFO ${PULLER} -> A new pipeline has been completed`,
  `INFO ${PULLER} -> Remote data is up to date!`,
];

describe('office365_exchange_message: log lines as the manual prints them', () => {
  it("a first run of the RWS service with nothing to collect prints the manual's lines", async () => {
    const { sim, target } = await startSimAndTarget({ generate: { messages: 0, from: new Date(Date.now() - DAY), to: new Date() } });
    const config = makeConfig(target, {
      input: { max_historic_date_cutoff_days_back: 11 },
      services: { office365_exchange_message_service: { override_base_url: sim.url, override_base_auth_url: sim.url, override_base_resource_url: 'https://outlook.office365.com' } },
    });
    const { summary, logs } = await runOnce(tempDir(), target, config, { startAt: undefined });
    expect(summary.errors).toEqual([]);
    expect(missingLogLines(logs, MANUAL_LINES)).toEqual([]);
  });
});
