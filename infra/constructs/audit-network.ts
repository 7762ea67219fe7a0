import { Fn, RemovalPolicy } from "aws-cdk-lib";
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  type ISubnet,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

/** Properties of {@link AuditNetwork}. */
export interface AuditNetworkProps {
  /** Availability zones to span (one isolated subnet in each). */
  readonly availabilityZones: 1 | 2 | 3;
  /** Key of the flow log group. */
  readonly logEncryptionKey: IKey;
  /** Retention of the flow log group. */
  readonly logRetention: RetentionDays;
}

/**
 * The private network of the audit domain: a VPC with one isolated subnet per zone (no internet
 * gateway, no NAT), gateway endpoints for DynamoDB (the audit function's quarantine writes) and S3
 * (the setup function's answer to CloudFormation's pre-signed URL), an interface endpoint for X-Ray
 * (active tracing of the functions inside) that takes HTTPS from the client security group only,
 * and flow logs of all traffic to an encrypted log group. Functions that call the audit domain join
 * {@link AuditNetwork.clientSecurityGroup}.
 * Zones are `Fn::GetAZs` picks, so the template needs no lookup and works in any region with that
 * many zones.
 */
export class AuditNetwork extends Construct {
  /** The VPC. */
  readonly vpc: Vpc;
  /** One isolated subnet per zone: where the domain and its client functions live. */
  readonly subnets: readonly ISubnet[];
  /** The security group of the functions inside (the audit and setup functions). */
  readonly clientSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: AuditNetworkProps) {
    super(scope, id);
    this.vpc = new Vpc(this, "Vpc", {
      availabilityZones: Array.from({ length: props.availabilityZones }, (_, i) => Fn.select(i, Fn.getAzs())),
      natGateways: 0,
      subnetConfiguration: [{ name: "Isolated", subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      restrictDefaultSecurityGroup: false,
    });
    this.subnets = this.vpc.isolatedSubnets;
    const subnets = { subnets: [...this.subnets] };
    this.vpc.addGatewayEndpoint("DynamoDb", {
      service: GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [subnets],
    });
    this.vpc.addGatewayEndpoint("S3", { service: GatewayVpcEndpointAwsService.S3, subnets: [subnets] });
    this.clientSecurityGroup = new SecurityGroup(this, "ClientSecurityGroup", {
      vpc: this.vpc,
      description: "Vigil: functions in the audit network",
      allowAllOutbound: true,
    });
    const endpointGroup = new SecurityGroup(this, "XRayEndpointSecurityGroup", {
      vpc: this.vpc,
      description: "Vigil: the X-Ray endpoint, HTTPS from the functions only",
      allowAllOutbound: false,
    });
    endpointGroup.addIngressRule(
      Peer.securityGroupId(this.clientSecurityGroup.securityGroupId),
      Port.tcp(443),
      "HTTPS from the functions",
    );
    this.vpc.addInterfaceEndpoint("XRay", {
      service: InterfaceVpcEndpointAwsService.XRAY,
      subnets,
      securityGroups: [endpointGroup],
      open: false,
    });
    const flowLogs = new LogGroup(this, "FlowLogs", {
      retention: props.logRetention,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog("FlowLog", {
      destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: FlowLogTrafficType.ALL,
    });
  }
}
