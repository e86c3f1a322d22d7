from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.api.lists import PAGE_PARAMETERS, paginated_response, paginated_schema
from apps.integrations import oauth, selectors, services
from apps.integrations.api import serializers as s
from apps.integrations.providers import PROVIDERS, oauth_client
from apps.users.models import APIKey
from apps.users.requests import AuthenticatedRequest

MANAGE = APIKey.Permission.MANAGE_INTEGRATIONS
FILES = APIKey.Permission.EXECUTE_GRAPH


class ProviderListApi(APIView):
    api_key_permission = MANAGE

    @extend_schema(responses=s.ProviderSerializer(many=True), tags=["integrations"])
    def get(self, request: Request) -> Response:
        rows = [
            {
                "name": provider.name,
                "title": provider.title,
                "default_base_url": provider.default_base_url,
                "credential_types": [str(t) for t in provider.credential_types],
                "oauth2_scopes": list(provider.oauth2.scopes if provider.oauth2 else ()),
                "oauth2_available": provider.oauth2 is not None
                and oauth_client(provider.name) is not None,
                "platform_credentials": selectors.platform_credential(provider.name) is not None,
            }
            for provider in PROVIDERS.values()
        ]
        return Response(s.ProviderSerializer(rows, many=True).data)


class CredentialListApi(APIView):
    api_key_permission = MANAGE

    @extend_schema(
        responses=paginated_schema(s.CredentialSerializer),
        parameters=PAGE_PARAMETERS,
        tags=["integrations"],
        operation_id="integrations_credentials_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        rows = selectors.credential_list(user=request.user)
        return paginated_response(request, rows, s.CredentialSerializer)

    @extend_schema(
        request=s.CredentialCreateSerializer,
        responses={201: s.CredentialSerializer},
        tags=["integrations"],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = s.CredentialCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credential = services.credential_create(user=request.user, **data.validated_data)
        return Response(s.CredentialSerializer(credential).data, status=status.HTTP_201_CREATED)


class CredentialDetailApi(APIView):
    api_key_permission = MANAGE

    @extend_schema(responses=s.CredentialSerializer, tags=["integrations"])
    def get(self, request: AuthenticatedRequest, credential_id: str) -> Response:
        credential = selectors.credential_get(user=request.user, credential_id=credential_id)
        return Response(s.CredentialSerializer(credential).data)

    @extend_schema(responses={204: None}, tags=["integrations"])
    def delete(self, request: AuthenticatedRequest, credential_id: str) -> Response:
        services.credential_delete(user=request.user, credential_id=credential_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OAuthStartApi(APIView):
    """Starts an OAuth2 consent; the provider sends the browser back to the dashboard's
    callback, which stores the credential for the signed-in user."""

    api_key_permission = MANAGE

    @extend_schema(
        request=s.OAuthStartSerializer,
        responses={200: s.OAuthStartResponseSerializer},
        tags=["integrations"],
    )
    def post(self, request: AuthenticatedRequest, provider: str) -> Response:
        data = s.OAuthStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credential_id = data.validated_data["credential_id"]
        url = oauth.oauth2_authorize_start(
            user=request.user,
            provider=provider,
            redirect_uri=request.build_absolute_uri(reverse("dashboard:oauth2-callback")),
            title=data.validated_data["title"],
            credential_id=str(credential_id) if credential_id else None,
            base_url=data.validated_data["base_url"],
        )
        return Response(s.OAuthStartResponseSerializer({"authorize_url": url}).data)


class FileUploadApi(APIView):
    api_key_permission = FILES
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": s.FileUploadSerializer},
        responses={201: s.UploadedFileSerializer},
        tags=["files"],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = s.FileUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.file_upload(
            user=request.user,
            upload=data.validated_data["file"],
            expires_in_hours=data.validated_data.get("expires_in_hours"),
        )
        return Response(s.UploadedFileSerializer(row).data, status=status.HTTP_201_CREATED)


class FileListApi(APIView):
    api_key_permission = FILES

    @extend_schema(
        responses=paginated_schema(s.UploadedFileSerializer),
        parameters=PAGE_PARAMETERS,
        tags=["files"],
        operation_id="files_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        rows = selectors.file_list(user=request.user)
        return paginated_response(request, rows, s.UploadedFileSerializer)


class FileDetailApi(APIView):
    api_key_permission = FILES

    @extend_schema(responses=s.UploadedFileSerializer, tags=["files"])
    def get(self, request: AuthenticatedRequest, file_id: str) -> Response:
        row = selectors.file_get(user_id=request.user.pk, file_id=file_id)
        return Response(s.UploadedFileSerializer(row).data)

    @extend_schema(responses={204: None}, tags=["files"])
    def delete(self, request: AuthenticatedRequest, file_id: str) -> Response:
        services.file_delete(user=request.user, file_id=file_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
